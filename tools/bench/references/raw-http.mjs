// The bench's floor: Node's own HTTP server answering GET /ping with the JSON resource-service's
// /ping answers, nothing else. Listens on PORT, on loopback.
import { createServer } from 'node:http';

const body = JSON.stringify({ pong: true });
const headers = {
  'content-type': 'application/json; charset=utf-8',
  'content-length': Buffer.byteLength(body),
};

createServer((request, response) => {
  if (request.url === '/ping') {
    response.writeHead(200, headers).end(body);
  } else {
    response.writeHead(404).end();
  }
}).listen(Number(process.env.PORT), '127.0.0.1');
