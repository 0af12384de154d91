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

// The panel: records when each message id arrives.
const arrivals = new Map();
let waiters = [];
const panel = http.createServer((req, res) => {
  let text = '';
  req.on('data', (c) => (text += c));
  req.on('end', () => {
    const event = JSON.parse(text);
    if (event.event_type === 'message') arrivals.set(event.value.id, process.hrtime.bigint());
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    waiters = waiters.filter((w) => !w());
  });
});
await new Promise((r) => panel.listen(0, '127.0.0.1', r));
const panelURL = `http://127.0.0.1:${panel.address().port}/hook`;

const untilArrived = (ids, timeoutMs) => new Promise((resolve) => {
  const check = () => { if (ids.every((id) => arrivals.has(id))) { resolve(true); return true; } return false; };
  if (check()) return;
  waiters.push(check);
  setTimeout(() => resolve(false), timeoutMs);
});

await call('POST', `/v1/external-support/${project}`, { webhookUrl: panelURL });
await call('POST', `/v1/projects/${project}/bots`, { id: 'bench-bot', name: 'Bench' });
for (let i = 0; i < CONVERSATIONS; i++) {
  await call('PUT', `/v1/projects/${project}/users/u${i}`, { names: `User ${i}` });
  await call('POST', `/v1/external-support/${project}/conversations/start`, { botId: 'bench-bot', userId: `u${i}` });
}
const sent = new Map();
const send = (id, i) => {
  sent.set(id, process.hrtime.bigint());
  return call('POST', `/v1/projects/${project}/channel/messages`,
    { botId: 'bench-bot', userId: `u${i % CONVERSATIONS}`, value: { id, type: 'text', content: { body: `benchmark message ${id}` } } });
};

// Phase A: throughput — MESSAGES messages as fast as CONCURRENCY clients can post them.
const ids = Array.from({ length: MESSAGES }, (_, i) => `t-${i}`);
const startA = process.hrtime.bigint();
let next = 0;
await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
  while (next < ids.length) { const i = next++; await send(ids[i], i); }
}));
const acceptedA = process.hrtime.bigint();
const completeA = await untilArrived(ids, 120000);
const endA = process.hrtime.bigint();
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
panel.close();
agent.destroy();
process.exit(completeA && completeB ? 0 : 1);
