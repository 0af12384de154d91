// Delivery benchmark: channel message POSTed to Relevo → `message` event received by a panel.
// Usage: node Benchmarks/delivery.mjs BASE_URL[,BASE_URL…] PROJECT_ID API_KEY
// Several base URLs (instances sharing one database): conversation c lives on instance c mod N — it is
// started there and all its messages go there.
//  Throughput: `wrk` (Benchmarks/channel.lua, one wrk per instance, CONNECTIONS connections in all) posts
//    messages for SECONDS_A seconds; events/s = messages accepted (200) / (last panel arrival − first post).
//    wrk is the client because it is the client of the ceiling too, and it leaves the CPU to Relevo.
//  Latency: messages at a fixed RATE for SECONDS; each conversation posts one message at a time, a
//    message due while its conversation waits for a 200 is posted after it, latency counted from when it was due.
// Env: SECONDS_A (default 10), CONNECTIONS (default 64), RATE (default 200), SECONDS (default 10),
//      CONVERSATIONS (default 500).
import http from 'node:http';
import { client } from './client.mjs';
import { spawn } from 'node:child_process';

const [baseList, project, key] = process.argv.slice(2);
const bases = baseList.split(',');
const SECONDS_A = +(process.env.SECONDS_A ?? 10);
const CONNECTIONS = +(process.env.CONNECTIONS ?? 64);
const RATE = +(process.env.RATE ?? 200);
const SECONDS = +(process.env.SECONDS ?? 10);
const CONVERSATIONS = +(process.env.CONVERSATIONS ?? 500);
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

const call = client(agent, key);

// The panel is a separate process (Benchmarks/panel.mjs); its clock (hrtime) is the same monotonic
// clock as ours, offset by its start.
const panelBase = process.env.PANEL_URL;
const panelStart = BigInt(process.env.PANEL_START_NS ?? '0');
const now = () => Number(process.hrtime.bigint() - panelStart);
const stats = () => call(panelBase, 'GET', '/stats');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const baseOf = (conversation) => bases[conversation % bases.length];
await call(bases[0], 'POST', `/v1/external-support/${project}`, { webhookUrl: `${panelBase}/hook` });
await call(bases[0], 'POST', `/v1/projects/${project}/bots`, { id: 'bench-bot', name: 'Bench' });
for (let i = 0; i < CONVERSATIONS; i += 32) {
  await Promise.all(Array.from({ length: Math.min(32, CONVERSATIONS - i) }, async (_, k) => {
    const c = i + k;
    await call(baseOf(c), 'PUT', `/v1/projects/${project}/users/u${c}`, { names: `User ${c}` });
    await call(baseOf(c), 'POST', `/v1/external-support/${project}/conversations/start`, { botId: 'bench-bot', userId: `u${c}` });
  }));
}
// Let the conversation.start events go out before measuring.
for (let i = 0; i < 600 && (await stats()).received < CONVERSATIONS; i++) await sleep(50);
await call(panelBase, 'DELETE', '/stats');

// Throughput.
function runWrk(instance) {
  return new Promise((resolve, reject) => {
    const connections = Math.max(1, Math.round(CONNECTIONS / bases.length));
    const child = spawn('wrk', ['-t', String(Math.min(2, connections)), '-c', String(connections), '-d', `${SECONDS_A}s`,
      '-s', 'Benchmarks/channel.lua', bases[instance], '--', project, key, String(CONVERSATIONS), String(bases.length), String(instance), `t${instance}`]);
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => process.stderr.write(c));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('WRK '));
      if (code !== 0 || !line) reject(new Error(`wrk exited with ${code}: ${out}`)); else resolve(JSON.parse(line.slice(4)));
    });
  });
}
const startA = now();
const runs = await Promise.all(bases.map((_, i) => runWrk(i)));
const acceptedA = now();
const posted = runs.reduce((n, r) => n + r.requests, 0);
const refused = runs.reduce((n, r) => n + r.non2xx + r.socketErrors, 0);
const accepted = posted - runs.reduce((n, r) => n + r.non2xx, 0);
let panel = await stats();
for (let i = 0; i < 2400 && panel.messages < accepted; i++) { await sleep(50); panel = await stats(); }
const completeA = panel.messages >= accepted && refused === 0;
const seconds = (a, b) => (b - a) / 1e9;
const throughput = accepted / seconds(startA, panel.lastArrival);

// Latency at a fixed arrival rate.
const sent = new Map();
const latencyIds = [];
const send = (id, i, sentAt) => {
  sent.set(id, sentAt);
  const conversation = i % CONVERSATIONS;
  return call(baseOf(conversation), 'POST', `/v1/projects/${project}/channel/messages`,
    { botId: 'bench-bot', userId: `u${conversation}`, value: { id, type: 'text', content: { body: `benchmark message ${id}` } } });
};
const interval = 1000 / RATE;
const startB = Date.now();
const tails = Array.from({ length: CONVERSATIONS }, () => Promise.resolve());
let k = 0;
await new Promise((resolve) => {
  const tick = () => {
    const due = Math.floor((Date.now() - startB) / interval);
    while (k <= due && k < RATE * SECONDS) {
      const id = `l-${k}`, i = k, dueAt = now();
      latencyIds.push(id);
      tails[i % CONVERSATIONS] = tails[i % CONVERSATIONS].then(() => send(id, i, dueAt)).catch((e) => console.error(e.message));
      k++;
    }
    if (k >= RATE * SECONDS) resolve(); else setTimeout(tick, 1);
  };
  tick();
});
let arrivals = {};
for (let i = 0; i < 1200; i++) {
  arrivals = (await stats()).arrivals;
  if (latencyIds.every((id) => id in arrivals)) break;
  await sleep(50);
}
const completeB = latencyIds.every((id) => id in arrivals);
const latencies = latencyIds.filter((id) => id in arrivals).map((id) => (arrivals[id] - sent.get(id)) / 1e6).sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(2);

console.log(`throughput: wrk, ${CONNECTIONS} connections for ${SECONDS_A} s, ${CONVERSATIONS} conversations` +
  (bases.length > 1 ? ` spread over ${bases.length} instances` : ''));
console.log(`  ${accepted} messages accepted (${(accepted / seconds(startA, acceptedA)).toFixed(0)} msg/s)` +
  (refused ? `, ${refused} refused or failed` : ''));
console.log(`  ${panel.messages} at the panel, the last ${seconds(startA, panel.lastArrival).toFixed(2)} s after the first post: ` +
  `${throughput.toFixed(0)} events/s${completeA ? '' : ' (INCOMPLETE)'}`);
console.log(`latency at ${RATE} events/s for ${SECONDS} s (${latencies.length}/${latencyIds.length} delivered${completeB ? '' : ', INCOMPLETE'}):`);
console.log(`  channel POST → panel receipt: p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${latencies.at(-1).toFixed(2)} ms`);
console.log(`RESULT ${JSON.stringify({ eventsPerSecond: throughput, acceptedPerSecond: accepted / seconds(startA, acceptedA),
  p50: +pct(0.5), p99: +pct(0.99), rate: RATE, complete: completeA && completeB,
  handled: CONVERSATIONS + accepted + latencyIds.length })}`);
agent.destroy();
process.exit(completeA && completeB ? 0 : 1);
