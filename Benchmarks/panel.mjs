// A fast panel for the benchmarks: answers 200 to every POST and records when each `message`
// event arrived. GET /stats → {"received": N, "arrivals": {"<message id>": <ns since start>}};
// DELETE /stats forgets them (between two benchmarks on the same panel).
// Usage: node Benchmarks/panel.mjs → prints {"port": N}.
import http from 'node:http';

const start = process.hrtime.bigint();
let arrivals = {};
let received = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ received, arrivals }));
    return;
  }
  if (req.method === 'DELETE' && req.url === '/stats') {
    arrivals = {};
    received = 0;
    res.writeHead(204).end();
    return;
  }
  let text = '';
  req.on('data', (c) => (text += c));
  req.on('end', () => {
    received++;
    try {
      const event = JSON.parse(text);
      if (event.event_type === 'message') arrivals[event.value.id] = Number(process.hrtime.bigint() - start);
    } catch {}
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port, start: start.toString() })));
