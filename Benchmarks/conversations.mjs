// Benchmarks/conversations.mjs: conversation starts and closes per second through one Relevo.
// Sets the project up (integration to the panel, one bot, USERS end users), then starts one
// conversation per user, CONCURRENCY requests at a time, then closes them all the same way; prints
// one line of JSON: {"starts": per s, "closes": per s}. Run by Benchmarks/conversations.sh.
// Usage: node Benchmarks/conversations.mjs BASE PROJECT KEY PANEL_URL   Env: USERS (default 1000),
//        CONCURRENCY (default 32).
import http from 'node:http';
import { client } from './client.mjs';

const [base, project, key, panel] = process.argv.slice(2);
const USERS = +(process.env.USERS ?? 1000);
const CONCURRENCY = +(process.env.CONCURRENCY ?? 32);
const send = client(new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY }), key);

const call = (method, path, body) => send(base, method, path, body);

// Calls `each(k)` for k in 0..<USERS, CONCURRENCY at a time; the seconds it took.
async function timed(each) {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < USERS) await each(next++);
  }));
  return Number(process.hrtime.bigint() - start) / 1e9;
}

await call('POST', `/v1/external-support/${project}`, { webhookUrl: `${panel}/hook` });
await call('POST', `/v1/projects/${project}/bots`, { id: 'bench-bot', name: 'Bench' });
await timed((k) => call('PUT', `/v1/projects/${project}/users/u${k}`, { names: `User ${k}` }));
const starts = await timed((k) => call('POST', `/v1/external-support/${project}/conversations/start`, { botId: 'bench-bot', userId: `u${k}` }));
const closes = await timed((k) => call('POST', `/v1/external-support/${project}/conversations/close`, { botId: 'bench-bot', userId: `u${k}` }));
console.log(JSON.stringify({ starts: USERS / starts, closes: USERS / closes }));
