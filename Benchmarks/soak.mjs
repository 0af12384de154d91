// Soak load: channel messages at a fixed RATE for MINUTES, the panel slow for the middle third, and
// Relevo's resources sampled every SAMPLE seconds.
// Usage: node Benchmarks/soak.mjs BASE PROJECT KEY PANEL_URL RELEVO_PID DATABASE_PATH > samples.csv
// Env: RATE (default 1000 messages/s), MINUTES (default 30), SAMPLE (default 10 s),
//      CONVERSATIONS (default 500), SLOW_MS (default 50: the panel's delay per answer while slow).
// Each conversation posts one message at a time; a message due while its conversation waits is
// posted right after. A CSV line per sample goes to stdout: seconds since start, phase, RSS (MiB),
// open descriptors, WAL size (MiB), queue depth, messages accepted and refused in the interval, and
// the panel's message count; the last line `RESULT {…}` sums up.
import fs from 'node:fs';
import http from 'node:http';

const [base, project, key, panelUrl, pid, databasePath] = process.argv.slice(2);
const RATE = +(process.env.RATE ?? 1000);
const MINUTES = +(process.env.MINUTES ?? 30);
const SAMPLE = +(process.env.SAMPLE ?? 10);
const CONVERSATIONS = +(process.env.CONVERSATIONS ?? 500);
const SLOW_MS = +(process.env.SLOW_MS ?? 50);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function request(url, method, body, headers = {}) {
  return new Promise((resolve) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(url, {
      method, agent,
      headers: { 'x-api-key': key, ...headers, ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}) },
    }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', () => resolve({ status: 0, text: '' }));
    if (data) req.write(data);
    req.end();
  });
}

async function must(method, path, body) {
  const answer = await request(base + path, method, body);
  if (answer.status !== 200) throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
  return JSON.parse(answer.text);
}

const panelBase = new URL(panelUrl).origin;
await must('POST', `/v1/external-support/${project}`, { webhookUrl: panelUrl });
await must('POST', `/v1/projects/${project}/bots`, { id: 'soak', name: 'Soak' });
for (let c = 0; c < CONVERSATIONS; c++) {
  await must('PUT', `/v1/projects/${project}/users/s${c}`, { names: `Soak ${c}` });
  await must('POST', `/v1/external-support/${project}/conversations/start`, { botId: 'soak', userId: `s${c}` });
}

let accepted = 0, refused = 0, sent = 0;
const busy = new Array(CONVERSATIONS).fill(false);
const backlog = new Array(CONVERSATIONS).fill(0);
async function post(c) {
  busy[c] = true;
  while (backlog[c] > 0) {
    backlog[c]--;
    const id = `s${c}-${sent++}`;
    const answer = await request(`${base}/v1/projects/${project}/channel/messages`, 'POST',
      { botId: 'soak', userId: `s${c}`, value: { id, type: 'text', content: { body: `soak message ${id}` } } });
    if (answer.status === 200) accepted++; else refused++;
  }
  busy[c] = false;
}

const fileSize = (path) => { try { return fs.statSync(path).size; } catch { return 0; } };
const rssMiB = () => +(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const descriptors = () => fs.readdirSync(`/proc/${pid}/fd`).length;
async function queueDepth() {
  const answer = await request(`${base}/metrics`, 'GET');
  const lines = [...answer.text.matchAll(/^relevo_queue_depth(?:\{[^}]*\})? (\d+)/gm)];
  return lines.length ? lines.reduce((sum, match) => sum + +match[1], 0) : -1;
}
async function panelMessages() {
  const answer = await request(`${panelBase}/stats`, 'GET');
  try { return JSON.parse(answer.text).messages; } catch { return -1; }
}

const start = Date.now();
const end = start + MINUTES * 60_000;
const slowFrom = start + MINUTES * 20_000, slowUntil = start + MINUTES * 40_000;
let phase = 'fast', tick = 0, lastAccepted = 0, lastRefused = 0;
console.log('seconds,phase,rss_mib,descriptors,wal_mib,queue_depth,accepted,refused,panel_messages');
const sampler = setInterval(async () => {
  const seconds = Math.round((Date.now() - start) / 1000);
  const line = [seconds, phase, rssMiB().toFixed(1), descriptors(), (fileSize(databasePath + '-wal') / 1048576).toFixed(1),
    await queueDepth(), accepted - lastAccepted, refused - lastRefused, await panelMessages()];
  lastAccepted = accepted; lastRefused = refused;
  console.log(line.join(','));
}, SAMPLE * 1000);

// The load: every 10 ms, RATE/100 messages, spread over the conversations in turn.
const perTick = RATE / 100;
let owed = 0, next = 0;
await new Promise((resolve) => {
  const timer = setInterval(async () => {
    const now = Date.now();
    if (now >= end) { clearInterval(timer); resolve(); return; }
    const wanted = now >= slowFrom && now < slowUntil ? 'slow' : (now >= slowUntil ? 'after' : 'fast');
    if (wanted !== phase) {
      phase = wanted;
      await request(`${panelBase}/delay/${phase === 'slow' ? SLOW_MS : 0}`, 'PUT');
    }
    owed += perTick;
    while (owed >= 1) {
      owed--;
      const c = next++ % CONVERSATIONS;
      backlog[c]++;
      if (!busy[c]) post(c);
    }
    tick++;
  }, 10);
});
// Let the backlog drain (at most 10 minutes), sampling on.
const drainDeadline = Date.now() + 600_000;
phase = 'drain';
while (Date.now() < drainDeadline && (await queueDepth()) > 0) await new Promise((r) => setTimeout(r, 1000));
clearInterval(sampler);
console.log(`RESULT ${JSON.stringify({ accepted, refused, panelMessages: await panelMessages(), drainedSeconds: Math.round((Date.now() - end) / 1000) })}`);
agent.destroy();
