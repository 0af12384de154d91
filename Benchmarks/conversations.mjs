// Benchmarks/conversations.mjs: conversation starts and closes per second through one Relevo.
// Sets the project up (integration to the panel, one bot, USERS end users), then starts one
// conversation per user, CONCURRENCY requests at a time, then closes them all the same way; prints
// one line of JSON: {"starts": per s, "closes": per s}. Run by Benchmarks/conversations.sh.
// Usage: node Benchmarks/conversations.mjs BASE PROJECT KEY PANEL_URL   Env: USERS (default 1000),
//        CONCURRENCY (default 32).
import http from 'node:http';

const [base, project, key, panel] = process.argv.slice(2);
const USERS = +(process.env.USERS ?? 1000);
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
      res.on('end', () => (res.statusCode < 300 ? resolve(text) : reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

// Calls `request(k)` for k in 0..<USERS, CONCURRENCY at a time; the seconds it took.
async function timed(request) {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < USERS) await request(next++);
  }));
  return Number(process.hrtime.bigint() - start) / 1e9;
}

await call('POST', `/v1/external-support/${project}`, { webhookUrl: `${panel}/hook` });
await call('POST', `/v1/projects/${project}/bots`, { id: 'bench-bot', name: 'Bench' });
await timed((k) => call('PUT', `/v1/projects/${project}/users/u${k}`, { names: `User ${k}` }));
const starts = await timed((k) => call('POST', `/v1/external-support/${project}/conversations/start`, { botId: 'bench-bot', userId: `u${k}` }));
const closes = await timed((k) => call('POST', `/v1/external-support/${project}/conversations/close`, { botId: 'bench-bot', userId: `u${k}` }));
console.log(JSON.stringify({ starts: USERS / starts, closes: USERS / closes }));
