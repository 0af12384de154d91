// A fast panel for the benchmarks: answers 200 to every POST, counts the `message` events and when the
// last one arrived, and records when each latency-phase message (id `l-…`) arrived.
// GET /stats → {"now": ns, "received": N, "messages": N, "firstArrival": ns, "lastArrival": ns, "arrivals": {"l-…": ns}}
// (ns since this process started); DELETE /stats forgets everything (between two benchmarks);
// PUT /delay/MS makes every later answer wait MS milliseconds (a slow panel; 0 makes it fast again).
// Usage: node Benchmarks/panel.mjs → prints {"port": N, "start": <hrtime ns>}.
import http from 'node:http';

const start = process.hrtime.bigint();
const since = () => Number(process.hrtime.bigint() - start);
let arrivals = {};
let received = 0;
let messages = 0;
let firstArrival = 0;
let lastArrival = 0;
let delay = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ now: since(), received, messages, firstArrival, lastArrival, arrivals }));
    return;
  }
  if (req.method === 'DELETE' && req.url === '/stats') {
    arrivals = {};
    received = messages = firstArrival = lastArrival = 0;
    res.writeHead(204).end();
    return;
  }
  if (req.method === 'PUT' && req.url.startsWith('/delay/')) {
    delay = Math.max(0, +req.url.slice(7) || 0);
    res.writeHead(204).end();
    return;
  }
  let text = '';
  req.on('data', (c) => (text += c));
  req.on('end', () => {
    received++;
    try {
      const event = JSON.parse(text);
      if (event.event_type === 'message') {
        lastArrival = since();
        if (messages++ === 0) firstArrival = lastArrival;
        if (event.value.id.startsWith('l-')) arrivals[event.value.id] = lastArrival;
      }
    } catch {}
    const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    if (delay > 0) setTimeout(answer, delay); else answer();
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port, start: start.toString() })));
