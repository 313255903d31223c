// The gateway's floor: Fastify with @fastify/http-proxy, the plugin apps/gateway is built on, with
// the gateway's options for the notes route (GET /api/notes → UPSTREAM/notes over undici) and
// nothing else: no Nest, no token check, no budget, no header rewriting, no log line, no metrics.
// What the gateway costs beyond this is Tessera's; this much is the proxy's. Listens on PORT, on
// loopback; /ping answers when it is up.
import Fastify from 'fastify';
import httpProxy from '@fastify/http-proxy';

const fastify = Fastify({ logger: false });
fastify.get('/ping', async () => ({ pong: true }));
await fastify.register(httpProxy, {
  upstream: process.env.UPSTREAM,
  prefix: '/api/notes',
  rewritePrefix: '/notes',
  proxyPayloads: false,
});
await fastify.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
