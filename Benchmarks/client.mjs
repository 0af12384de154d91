// Benchmarks/client.mjs: the JSON-over-HTTP call the load generators make to Relevo and the panel.
import http from 'node:http';

// A call(base, method, path, body) over `agent` with `key` as x-api-key: the answer's JSON (null when
// empty), or an error naming the request for a status of 300 or more.
export function client(agent, key) {
  return (base, method, path, body) => new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(base + path, {
      method, agent,
      headers: { 'x-api-key': key, ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}) },
    }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => (res.statusCode < 300 ? resolve(text ? JSON.parse(text) : null) : reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}
