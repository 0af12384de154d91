// Delivery benchmark: channel message POSTed to Relevo → `message` event received by a panel.
// Usage: node Benchmarks/delivery.mjs BASE_URL PROJECT_ID API_KEY
// Env: MESSAGES (throughput phase, default 4000), RATE (latency phase, events/s, default 200),
//      SECONDS (latency phase length, default 10), CONVERSATIONS (default 50), CONCURRENCY (default 32).
import http from 'node:http';

const [base, project, key] = process.argv.slice(2);
const MESSAGES = +(process.env.MESSAGES ?? 4000);
const RATE = +(process.env.RATE ?? 200);
const SECONDS = +(process.env.SECONDS ?? 10);
const CONVERSATIONS = +(process.env.CONVERSATIONS ?? 50);
const CONCURRENCY = +(process.env.CONCURRENCY ?? 32);
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(base + path, {
      method, agent,
      headers: { 'x-api-key': key, ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}) },
    }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

// The panel is a separate process (Benchmarks/panel.mjs) so it never competes with this client's
// event loop; its clock (hrtime) is the same monotonic clock as ours.
const panelBase = process.env.PANEL_URL;
const panelURL = `${panelBase}/hook`;
const arrivals = new Map();
const stats = () => new Promise((resolve, reject) => {
  http.get(`${panelBase}/stats`, (res) => { let t = ''; res.on('data', (c) => (t += c)); res.on('end', () => resolve(JSON.parse(t))); }).on('error', reject);
});
const panelStart = BigInt(process.env.PANEL_START_NS ?? '0');
async function untilArrived(ids, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { arrivals: seen } = await stats();
    for (const [id, ns] of Object.entries(seen)) arrivals.set(id, BigInt(ns));
    if (ids.every((id) => arrivals.has(id))) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

await call('POST', `/v1/external-support/${project}`, { webhookUrl: panelURL });
await call('POST', `/v1/projects/${project}/bots`, { id: 'bench-bot', name: 'Bench' });
for (let i = 0; i < CONVERSATIONS; i++) {
  await call('PUT', `/v1/projects/${project}/users/u${i}`, { names: `User ${i}` });
  await call('POST', `/v1/external-support/${project}/conversations/start`, { botId: 'bench-bot', userId: `u${i}` });
}
const sent = new Map();
// Sent times in the panel's clock: both processes read the same monotonic clock, offset by its start.
const send = (id, i) => {
  sent.set(id, process.hrtime.bigint() - panelStart);
  return call('POST', `/v1/projects/${project}/channel/messages`,
    { botId: 'bench-bot', userId: `u${i % CONVERSATIONS}`, value: { id, type: 'text', content: { body: `benchmark message ${id}` } } });
};

// Phase A: throughput — MESSAGES messages as fast as CONCURRENCY clients can post them.
const ids = Array.from({ length: MESSAGES }, (_, i) => `t-${i}`);
const startA = process.hrtime.bigint() - panelStart;
let next = 0;
await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
  while (next < ids.length) { const i = next++; await send(ids[i], i); }
}));
const acceptedA = process.hrtime.bigint() - panelStart;
const completeA = await untilArrived(ids, 120000);
const endA = ids.reduce((latest, id) => (arrivals.get(id) > latest ? arrivals.get(id) : latest), 0n);
const seconds = (a, b) => Number(b - a) / 1e9;

// Phase B: latency at a fixed arrival rate.
const latencyIds = [];
const interval = 1000 / RATE;
const startB = Date.now();
let k = 0;
await new Promise((resolve) => {
  const tick = () => {
    const due = Math.floor((Date.now() - startB) / interval);
    while (k <= due && k < RATE * SECONDS) { const id = `l-${k}`; latencyIds.push(id); send(id, k).catch((e) => console.error(e.message)); k++; }
    if (k >= RATE * SECONDS) resolve(); else setTimeout(tick, 1);
  };
  tick();
});
const completeB = await untilArrived(latencyIds, 60000);
const latencies = latencyIds.filter((id) => arrivals.has(id)).map((id) => Number(arrivals.get(id) - sent.get(id)) / 1e6).sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(2);

console.log(`throughput: ${MESSAGES} messages over ${CONVERSATIONS} conversations, ${CONCURRENCY} concurrent posts`);
console.log(`  accepted by Relevo in ${seconds(startA, acceptedA).toFixed(2)} s (${(MESSAGES / seconds(startA, acceptedA)).toFixed(0)} msg/s)`);
console.log(`  all at the panel in ${seconds(startA, endA).toFixed(2)} s: ${(MESSAGES / seconds(startA, endA)).toFixed(0)} events/s${completeA ? '' : ' (INCOMPLETE)'}`);
console.log(`latency at ${RATE} events/s for ${SECONDS} s (${latencies.length}/${latencyIds.length} delivered${completeB ? '' : ', INCOMPLETE'}):`);
console.log(`  channel POST → panel receipt: p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${latencies.at(-1).toFixed(2)} ms`);
console.log(`RESULT ${JSON.stringify({ eventsPerSecond: MESSAGES / seconds(startA, endA), p50: +pct(0.5), p99: +pct(0.99), rate: RATE })}`);
agent.destroy();
process.exit(completeA && completeB ? 0 : 1);
