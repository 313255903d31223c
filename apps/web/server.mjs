// Serves the example web app's build (dist/apps/web) as static files, the way `npm start` and its
// container run it: no dev server, no dependency but Node itself (the image has no node_modules).
// The app's settings come from this process's environment as /config.json, so one build runs
// anywhere:
//
//   ISSUER                auth-service's issuer URL, as the browser reaches it (http://127.0.0.1:3001)
//   RESOURCE_SERVICE_URL  resource-service's URL, as the browser reaches it (http://127.0.0.1:3002)
//   CLIENT_ID             the app's OAuth client id (web)
//   PORT, HOST            where to listen (4200 on 127.0.0.1)
//   WEB_ROOT              the build to serve (dist/apps/web beside this repository's apps/)
//
// Every answer carries a strict content security policy: scripts, styles and fetches from this
// origin only, fetches to the issuer and resource-service besides, nothing inline, no framing.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const environment = process.env;
const root = resolve(
  environment.WEB_ROOT || join(dirname(fileURLToPath(import.meta.url)), '../../dist/apps/web'),
);
const port = Number(environment.PORT || 4200);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`web: PORT must be a whole number from 0 to 65535, not ${environment.PORT}`);
  process.exit(1);
}
const host = environment.HOST || '127.0.0.1';
const config = {
  issuer: originUrl('ISSUER', 'http://127.0.0.1:3001').href.replace(/\/$/, ''),
  clientId: environment.CLIENT_ID || 'web',
  // With a trailing slash: the app resolves `notes` against it (…/api/ → …/api/notes).
  notesUrl: originUrl('RESOURCE_SERVICE_URL', 'http://127.0.0.1:3002').href.replace(/\/?$/, '/'),
};

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  `connect-src 'self' ${new URL(config.issuer).origin} ${new URL(config.notesUrl).origin}`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  // The callback's address holds the authorization code: no page it links to may see it.
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Every file of the build, read once: the build never changes under a running server. */
const files = new Map();
for (const name of readdirSync(root)) {
  if (!(extname(name) in TYPES)) continue;
  // Hashed names (main.3f2a….js) never change; index.html is asked for again every time.
  const cache = /\.[0-9a-f]{16,}\./.test(name) ? 'public, max-age=31536000, immutable' : 'no-cache';
  files.set(`/${name}`, {
    body: readFileSync(join(root, name)),
    headers: { 'content-type': TYPES[extname(name)], 'cache-control': cache },
  });
}
const page = files.get('/index.html');
if (!page) {
  console.error(`web: no index.html in ${root}; build the app first (npx nx build web)`);
  process.exit(1);
}
// The app's own routes are the page; /config.json and the health checks are this server's.
files.set('/', page);
files.set('/callback', page);
const json = (value) => ({
  body: Buffer.from(JSON.stringify(value)),
  headers: { 'content-type': TYPES['.json'], 'cache-control': 'no-store' },
});
files.set('/config.json', json(config));
files.set('/health/live', json({ status: 'ok' }));
files.set('/health/ready', json({ status: 'ok' }));

const REASONS = { 400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed' };

const server = createServer((request, response) => {
  // A request target that is no URL (`GET http://[ HTTP/1.1`) is refused, not thrown.
  const url = URL.canParse(request.url ?? '', 'http://web')
    ? new URL(request.url ?? '', 'http://web')
    : undefined;
  const file = url && files.get(url.pathname);
  const status = !url
    ? 400
    : request.method !== 'GET' && request.method !== 'HEAD'
      ? 405
      : file
        ? 200
        : 404;
  const { body, headers } =
    status === 200
      ? file
      : {
          body: Buffer.from(REASONS[status]),
          headers: { 'content-type': 'text/plain; charset=utf-8' },
        };
  response.writeHead(status, { ...HEADERS, ...headers, 'content-length': body.length });
  response.end(request.method === 'HEAD' ? undefined : body);
});

server.listen(port, host, () => {
  console.log(`web: serving ${root} at http://${host}:${port} (issuer ${config.issuer})`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  });
}

/** `name`'s URL (else `fallback`), which must be http(s); exits 1 naming the variable if not. */
function originUrl(name, fallback) {
  const value = environment[name] || fallback;
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (!url || !['http:', 'https:'].includes(url.protocol)) {
    console.error(`web: ${name} must be an http(s) URL, not ${JSON.stringify(value)}`);
    process.exit(1);
  }
  return url;
}
