// A panel written the way Jelou's docs tell panel developers to verify events:
// HMAC-SHA256 over JSON.stringify(JSON.parse(body)) with the signing secret, compared with
// crypto.timingSafeEqual. Every event is also checked by Python's `standardwebhooks` package
// (verify_standard.py) with each Standard Webhooks secret the test configured.
//
// Usage: node panel.mjs  → prints {"port": N} once listening.
// Control: POST /control/secrets {"jelou": "<secret>", "standard": ["whsec_…", …]}
//          GET  /control/results → [{eventId, type, jelou, standard, error}]
import crypto from 'node:crypto';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const python = spawn('python3', [path.join(here, 'verify_standard.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
const answers = createInterface({ input: python.stdout });
const pending = [];
answers.on('line', (line) => pending.shift()(JSON.parse(line)));
const verifyStandard = (body, headers, secrets) => new Promise((resolve) => {
  pending.push(resolve);
  python.stdin.write(JSON.stringify({ body, headers, secrets }) + '\n');
});

let secrets = { jelou: '', standard: [] };
const results = [];

function verifyJelou(rawBody, header, secret) {
  // As in the docs: parse, re-serialize, HMAC, constant-time compare.
  const payload = JSON.stringify(JSON.parse(rawBody));
  const expected = 'sha256=' + crypto.createHmac('sha256', secret).update(payload).digest('hex');
  const given = Buffer.from(header ?? '');
  const wanted = Buffer.from(expected);
  return given.length === wanted.length && crypto.timingSafeEqual(given, wanted);
}

const server = http.createServer((req, res) => {
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => (raw += chunk));
  req.on('end', async () => {
    if (req.url === '/control/secrets') {
      secrets = JSON.parse(raw);
      res.writeHead(200).end('{}');
      return;
    }
    if (req.url === '/control/results') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(results));
      return;
    }
    const jelou = verifyJelou(raw, req.headers['x-jelou-signature'], secrets.jelou);
    const headers = {
      'webhook-id': req.headers['webhook-id'], 'webhook-timestamp': req.headers['webhook-timestamp'],
      'webhook-signature': req.headers['webhook-signature'],
    };
    const standard = await verifyStandard(raw, headers, secrets.standard);
    const event = JSON.parse(raw);
    results.push({ eventId: req.headers['webhook-id'], type: event.event ?? event.event_type, jelou, standard: standard.ok, error: standard.error });
    res.writeHead(jelou && standard.ok ? 200 : 401, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
