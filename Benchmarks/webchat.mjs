// The web chat's live transcripts under load, against a running Relevo (see webchat.sh).
//
// 1. IDLE visitors get a token and open a stream each, and stay idle: Relevo's resident memory and
//    open file descriptors are read from /proc before (the baseline, same process, same run) and
//    after, and the difference per stream printed.
// 2. The first STREAMS of them write once (a conversation starts for each); then a panel replies
//    at RATE replies/s for SECONDS seconds through the signed webhook, each reply to one of those
//    conversations in turn, and each reply's time from the moment its webhook is sent to the moment
//    its text arrives on its visitor's stream is recorded. The webhook call's own answer time is the
//    baseline: what arrives later than it is the stream's share.
//
// Each stream has a connection of its own, as the widget asks browsers for. With MODE=shared each
// stream's connection first serves another request (`GET …/config`), as when a browser reuses one,
// and only step 1 runs.
//
// With MODE=keepalive it only opens IDLE keep-alive connections that each made one request
// (`GET /version`) and prints what they cost the same way: the baseline of any connection this HTTP
// stack holds (webchat.sh runs it against a server of its own, before the streams).
//
// Usage: node Benchmarks/webchat.mjs BASE PROJECT KEY PANEL_URL RELEVO_PID
//   env IDLE (10000), STREAMS (1000), RATE (200), SECONDS (20), MODE (streams | shared | keepalive)
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';

const [base, project, key, panelUrl, pid] = process.argv.slice(2);
const IDLE = Number(process.env.IDLE || 10000);
const STREAMS = Math.min(IDLE, Number(process.env.STREAMS || 1000));
const RATE = Number(process.env.RATE || 200);
const SECONDS = Number(process.env.SECONDS || 20);
const ORIGIN = 'https://bench.example';
const target = new URL(base);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function request(method, path, body, headers = {}, via = agent) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = http.request({
      host: target.hostname, port: target.port, method, path, agent: via,
      headers: { ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}), ...headers },
    }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, json, text });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function api(method, path, body) {
  const answer = await request(method, path, body, { 'x-api-key': key });
  if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
  return answer.json?.data;
}

async function inParallel(count, width, work) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await work(next++);
  }));
}

function sample() {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(status.match(/VmRSS:\s+(\d+)/)[1]) / 1024;
  return { rssMiB: rss, fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const now = () => Number(process.hrtime.bigint()) / 1e6;

if (process.env.MODE === 'keepalive') {
  const start = sample();
  const agents = [];
  await inParallel(IDLE, 200, async () => {
    const own = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(own);
    await new Promise((resolve, reject) => {
      http.get({ host: target.hostname, port: target.port, path: '/version', agent: own }, (res) => { res.resume(); res.on('end', resolve); })
        .on('error', reject);
    });
  });
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const held = sample();
  const perConnection = ((held.rssMiB - start.rssMiB) * 1024) / IDLE;
  console.log(`idle keep-alive connections: ${IDLE}; Relevo RSS ${start.rssMiB.toFixed(1)} MiB before, ${held.rssMiB.toFixed(1)} MiB `
    + `with them (${perConnection.toFixed(2)} KiB per connection); file descriptors ${start.fds} → ${held.fds}`);
  console.log('RESULT ' + JSON.stringify({ keepAliveConnections: IDLE, rssPerConnectionKiB: +perConnection.toFixed(2) }));
  process.exit(0);
}

// ---- setup
const integration = await api('POST', `/v1/external-support/${project}`, { webhookUrl: panelUrl, authType: 'bearer', authorization: 'bench' });
const secret = integration.signingSecret;
await api('POST', `/v1/projects/${project}/bots`, { id: 'web', name: 'Bench bot' });
await api('PUT', `/v1/projects/${project}/bots/web/webchat`, { allowedOrigins: [ORIGIN] });
const chat = `/webchat/${project}/web`;

const visitors = new Array(IDLE);
await inParallel(IDLE, 32, async (index) => {
  const answer = await request('POST', `${chat}/visitor`, { host: ORIGIN }, { origin: ORIGIN });
  if (answer.status !== 200) throw new Error(`visitor: ${answer.status} ${answer.text}`);
  visitors[index] = { token: answer.json.data.token, userId: answer.json.data.userId };
});
await new Promise((resolve) => setTimeout(resolve, 2000));
const before = sample();

// ---- idle streams
const pending = new Map(); // reply id → send time (ms)
const latencies = [];
let duplicates = 0;
const seen = new Set();
async function openStream(visitor) {
  let via = false;
  if (process.env.MODE === 'shared') {
    via = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const answer = await request('GET', `${chat}/config`, undefined, { origin: ORIGIN }, via);
    if (answer.status !== 200) throw new Error(`config: ${answer.status}`);
  }
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: target.hostname, port: target.port, method: 'GET', path: `${chat}/stream`, agent: via,
      headers: { authorization: `Bearer ${visitor.token}`, origin: ORIGIN, accept: 'text/event-stream' },
    }, (res) => {
      if (res.statusCode !== 200) { reject(new Error(`stream: ${res.statusCode}`)); return; }
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!block.startsWith('id: ') || !block.includes('\nevent: message\n')) continue;
          const message = JSON.parse(block.slice(block.indexOf('\ndata: ') + 7));
          const sent = pending.get(message.id);
          if (sent === undefined) continue;
          if (seen.has(message.id)) { duplicates += 1; continue; }
          seen.add(message.id);
          latencies.push(now() - sent);
        }
      });
      resolve(req);
    });
    req.on('error', reject);
    req.end();
  });
}
const streams = [];
await inParallel(IDLE, 200, async (index) => { streams.push(await openStream(visitors[index])); });
await new Promise((resolve) => setTimeout(resolve, 5000));
const during = sample();
if (process.env.MODE === 'shared') {
  const perStream = ((during.rssMiB - before.rssMiB) * 1024) / IDLE;
  console.log(`idle streams on connections that served a request first: ${IDLE}; Relevo RSS ${before.rssMiB.toFixed(1)} MiB before, `
    + `${during.rssMiB.toFixed(1)} MiB with them (${perStream.toFixed(2)} KiB per stream); file descriptors ${before.fds} → ${during.fds}`);
  console.log('RESULT ' + JSON.stringify({ sharedStreams: IDLE, rssWithStreamsMiB: +during.rssMiB.toFixed(1), rssPerStreamKiB: +perStream.toFixed(2) }));
  process.exit(0);
}

// ---- replies to streaming visitors
await inParallel(STREAMS, 32, async (index) => {
  const answer = await request('POST', `${chat}/messages`, { id: `wm_bench_${index}`, text: 'hello' },
    { authorization: `Bearer ${visitors[index].token}`, origin: ORIGIN });
  if (answer.status !== 200) throw new Error(`message: ${answer.status} ${answer.text}`);
});
const rooms = new Map();
let cursor = null;
do {
  const page = await api('GET', `/v1/external-support/${project}/conversations?botId=web&limit=100${cursor ? `&cursor=${cursor}` : ''}`);
  for (const conversation of page.conversations) rooms.set(conversation.User.id, conversation.roomId);
  cursor = page.nextCursor;
} while (cursor);

const webhookTimes = [];
let sentCount = 0;
let failures = 0;
const started = now();
await new Promise((resolve) => {
  const total = RATE * SECONDS;
  const timer = setInterval(() => {
    const due = Math.min(total, Math.floor(((now() - started) / 1000) * RATE) + 1);
    while (sentCount < due) {
      const visitor = visitors[sentCount % STREAMS];
      const id = `agent-${sentCount}`;
      const body = JSON.stringify({
        project_id: project, field: 'messages', object: 'message_event', event_type: 'incoming_message',
        room_id: rooms.get(visitor.userId), bot_id: 'web', user_id: visitor.userId,
        value: { id, type: 'text', content: { body: `reply ${sentCount}` } },
      });
      const signature = 'sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex');
      const sentAt = now();
      pending.set(id, sentAt);
      request('POST', '/v1/external-support/webhook', body, { 'x-jelou-signature': signature })
        .then((answer) => { if (answer.status === 200) webhookTimes.push(now() - sentAt); else failures += 1; })
        .catch(() => { failures += 1; });
      sentCount += 1;
    }
    if (sentCount >= total) { clearInterval(timer); resolve(); }
  }, 2);
});
const deadline = now() + 10000;
while (latencies.length + failures < sentCount && now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
const after = sample();
for (const stream of streams) stream.destroy();

const sorted = latencies.slice().sort((a, b) => a - b);
const hooks = webhookTimes.slice().sort((a, b) => a - b);
const perStream = (key) => (during[key] - before[key]) / IDLE;
const result = {
  idleStreams: IDLE, rssBeforeMiB: +before.rssMiB.toFixed(1), rssWithStreamsMiB: +during.rssMiB.toFixed(1),
  rssPerStreamKiB: +(perStream('rssMiB') * 1024).toFixed(2), fdsBefore: before.fds, fdsWithStreams: during.fds,
  fdsPerStream: +perStream('fds').toFixed(3), rssAfterRepliesMiB: +after.rssMiB.toFixed(1),
  replyStreams: STREAMS, rate: RATE, seconds: SECONDS, replies: sentCount, arrived: latencies.length, failures, duplicates,
  arrivalP50ms: +percentile(sorted, 0.5).toFixed(2), arrivalP99ms: +percentile(sorted, 0.99).toFixed(2),
  webhookP50ms: +percentile(hooks, 0.5).toFixed(2), webhookP99ms: +percentile(hooks, 0.99).toFixed(2),
};
result.arrivalOverWebhookP50 = +(result.arrivalP50ms / result.webhookP50ms).toFixed(2);
result.arrivalOverWebhookP99 = +(result.arrivalP99ms / result.webhookP99ms).toFixed(2);
console.log(`idle streams: ${IDLE}; Relevo RSS ${result.rssBeforeMiB} MiB before, ${result.rssWithStreamsMiB} MiB with them `
  + `(${result.rssPerStreamKiB} KiB per stream); file descriptors ${before.fds} → ${during.fds} (${result.fdsPerStream} per stream)`);
console.log(`replies: ${sentCount} at ${RATE}/s over ${STREAMS} streams; arrived ${latencies.length}, duplicates ${duplicates}, failed ${failures}`);
console.log(`reply → arrival on the stream: p50 ${result.arrivalP50ms} ms, p99 ${result.arrivalP99ms} ms`);
console.log(`baseline, the webhook call's own answer: p50 ${result.webhookP50ms} ms, p99 ${result.webhookP99ms} ms `
  + `(arrival / answer: ${result.arrivalOverWebhookP50}× at p50, ${result.arrivalOverWebhookP99}× at p99)`);
console.log('RESULT ' + JSON.stringify(result));
process.exit(latencies.length === sentCount && duplicates === 0 ? 0 : 1);
