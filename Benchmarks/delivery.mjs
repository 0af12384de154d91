// Delivery benchmark: channel message POSTed to Relevo → `message` event received by a panel.
// Usage: node Benchmarks/delivery.mjs BASE_URL[,BASE_URL…] PROJECT_ID API_KEY
// Several base URLs (instances sharing one database): conversation c lives on instance c mod N — it is
// started there and all its messages go there. Every conversation sends one message at a time, the next
// only after the 200 for the previous one, so each conversation's messages are accepted in send order.
// Env: MESSAGES (throughput phase, default 4000), RATE (latency phase, events/s, default 200),
//      SECONDS (latency phase length, default 10), CONVERSATIONS (default 50), CONCURRENCY (default 32).
import http from 'node:http';

const [baseList, project, key] = process.argv.slice(2);
const bases = baseList.split(',');
const MESSAGES = +(process.env.MESSAGES ?? 4000);
const RATE = +(process.env.RATE ?? 200);
const SECONDS = +(process.env.SECONDS ?? 10);
const CONVERSATIONS = +(process.env.CONVERSATIONS ?? 50);
const CONCURRENCY = +(process.env.CONCURRENCY ?? 32);
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function call(base, method, path, body) {
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

const baseOf = (conversation) => bases[conversation % bases.length];
await call(bases[0], 'POST', `/v1/external-support/${project}`, { webhookUrl: panelURL });
await call(bases[0], 'POST', `/v1/projects/${project}/bots`, { id: 'bench-bot', name: 'Bench' });
for (let i = 0; i < CONVERSATIONS; i++) {
  await call(baseOf(i), 'PUT', `/v1/projects/${project}/users/u${i}`, { names: `User ${i}` });
  await call(baseOf(i), 'POST', `/v1/external-support/${project}/conversations/start`, { botId: 'bench-bot', userId: `u${i}` });
}
const sent = new Map();
const now = () => process.hrtime.bigint() - panelStart;
// Sent times in the panel's clock: both processes read the same monotonic clock, offset by its start.
// Message i belongs to conversation i mod CONVERSATIONS.
const send = (id, i, sentAt = now()) => {
  sent.set(id, sentAt);
  const conversation = i % CONVERSATIONS;
  return call(baseOf(conversation), 'POST', `/v1/projects/${project}/channel/messages`,
    { botId: 'bench-bot', userId: `u${conversation}`, value: { id, type: 'text', content: { body: `benchmark message ${id}` } } });
};

// Phase A: throughput — MESSAGES messages as fast as CONCURRENCY clients can post them: each
// conversation posts its messages one after the other, at most CONCURRENCY posts in flight in all
// (handed out first come, first served, so conversations take turns).
const ids = Array.from({ length: MESSAGES }, (_, i) => `t-${i}`);
let permits = CONCURRENCY;
const waiting = [];
const acquire = () => (permits > 0 ? (permits--, Promise.resolve()) : new Promise((resolve) => waiting.push(resolve)));
const release = () => { const next = waiting.shift(); if (next) next(); else permits++; };
const startA = now();
await Promise.all(Array.from({ length: Math.min(CONVERSATIONS, MESSAGES) }, async (_, c) => {
  for (let i = c; i < MESSAGES; i += CONVERSATIONS) {
    await acquire();
    try { await send(ids[i], i); } finally { release(); }
  }
}));
const acceptedA = now();
const completeA = await untilArrived(ids, 120000);
const endA = ids.reduce((latest, id) => (arrivals.get(id) > latest ? arrivals.get(id) : latest), 0n);
const seconds = (a, b) => Number(b - a) / 1e9;

// Phase B: latency at a fixed arrival rate. A message whose conversation still waits for the 200 of
// its previous one is posted right after that 200; its latency counts from when it was due.
const latencyIds = [];
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
const completeB = await untilArrived(latencyIds, 60000);
const latencies = latencyIds.filter((id) => arrivals.has(id)).map((id) => Number(arrivals.get(id) - sent.get(id)) / 1e6).sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(2);

console.log(`throughput: ${MESSAGES} messages over ${CONVERSATIONS} conversations, ${Math.min(CONCURRENCY, CONVERSATIONS)} concurrent posts` +
  (bases.length > 1 ? `, conversations spread over ${bases.length} instances` : ''));
console.log(`  accepted by Relevo in ${seconds(startA, acceptedA).toFixed(2)} s (${(MESSAGES / seconds(startA, acceptedA)).toFixed(0)} msg/s)`);
console.log(`  all at the panel in ${seconds(startA, endA).toFixed(2)} s: ${(MESSAGES / seconds(startA, endA)).toFixed(0)} events/s${completeA ? '' : ' (INCOMPLETE)'}`);
console.log(`latency at ${RATE} events/s for ${SECONDS} s (${latencies.length}/${latencyIds.length} delivered${completeB ? '' : ', INCOMPLETE'}):`);
console.log(`  channel POST → panel receipt: p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${latencies.at(-1).toFixed(2)} ms`);
console.log(`RESULT ${JSON.stringify({ eventsPerSecond: MESSAGES / seconds(startA, endA), acceptedPerSecond: MESSAGES / seconds(startA, acceptedA),
  p50: +pct(0.5), p99: +pct(0.99), rate: RATE, complete: completeA && completeB })}`);
agent.destroy();
process.exit(completeA && completeB ? 0 : 1);
