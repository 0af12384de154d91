// The JavaScript-canonical writer against Node: every line of TRANSCRIPT is `<input hex>\t<Relevo's
// output hex>` for an input Relevo's parser accepted (written by Fuzz/CanonicalJSON); Node must
// accept the same input and JSON.stringify(JSON.parse(input)) must be the same bytes.
// Usage: node scripts/canonical_differential.mjs TRANSCRIPT. Prints the count and any difference.
import fs from 'node:fs';

const lines = new Set(fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean));
const decoder = new TextDecoder('utf-8', { fatal: true });
let compared = 0;
const differences = [];
for (const line of lines) {
  const [inputHex, outputHex] = line.split('\t');
  const input = decoder.decode(Buffer.from(inputHex, 'hex'));
  const relevo = Buffer.from(outputHex, 'hex').toString('utf8');
  let node;
  try { node = JSON.stringify(JSON.parse(input)); } catch (error) { node = `(Node refuses: ${error.message})`; }
  compared++;
  if (node !== relevo) differences.push({ input: input.slice(0, 200), relevo: relevo.slice(0, 200), node: node.slice(0, 200) });
}
console.log(`canonical writer vs Node: ${compared} accepted inputs compared, ${differences.length} differences`);
for (const difference of differences.slice(0, 10)) console.log(JSON.stringify(difference));
process.exit(differences.length === 0 && compared > 0 ? 0 : 1);
