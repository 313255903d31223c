// The development mail catcher of `npm start` and `npm run dev`: an SMTP server on loopback that
// keeps every message auth-service sends under DATA_DIR/mail/ (one .eml file each), and a page
// that lists them, newest first, with their links. Started only outside production and only
// when SMTP_URL is not set (then auth-service is pointed at it); docker-compose uses Mailpit.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { root, say } from './services.mjs';

/** The catcher's ports: SMTP and its page (MailDev's defaults). */
export const MAIL_CATCHER_SMTP_PORT = 1025;
export const MAIL_CATCHER_PAGE_PORT = 1080;
const SHOWN = 50;

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const linked = (text) =>
  escape(text).replace(/https?:\/\/[^\s<&]+/g, (url) => `<a href="${url}">${url}</a>`);

/**
 * Starts the catcher unless this is production or SMTP_URL is set; resolves with the SMTP_URL to
 * give auth-service and the page's URL, or with undefined (not needed, or a port is taken: then
 * mail waits in auth-service's outbox and a line says why).
 */
export async function startMailCatcher(environment = process.env) {
  if (environment.NODE_ENV === 'production' || environment.SMTP_URL) return undefined;
  let SMTPServer;
  let simpleParser;
  try {
    ({ SMTPServer } = await import('smtp-server'));
    ({ simpleParser } = await import('mailparser'));
  } catch {
    say(
      'No development mail catcher (smtp-server and mailparser are devDependencies); set SMTP_URL to send mail.',
    );
    return undefined;
  }
  const folder = join(resolve(root, environment.DATA_DIR || '.data'), 'mail');
  mkdirSync(folder, { recursive: true });
  let count = 0;
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks = [];
      stream.on('data', (chunk) => chunks.push(chunk));
      stream.on('end', () => {
        count += 1;
        const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${count}.eml`;
        writeFileSync(join(folder, name), Buffer.concat(chunks), { mode: 0o600 });
        callback();
      });
    },
  });
  const page = createServer(async (request, response) => {
    const files = readdirSync(folder)
      .filter((file) => file.endsWith('.eml'))
      .sort()
      .reverse();
    const raw = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname.slice(1));
    if (raw && files.includes(raw)) {
      response.writeHead(200, { 'content-type': 'message/rfc822' });
      response.end(readFileSync(join(folder, raw)));
      return;
    }
    const items = [];
    for (const file of files.slice(0, SHOWN)) {
      const mail = await simpleParser(readFileSync(join(folder, file)));
      items.push(`<article><h2>${escape(mail.subject ?? '(no subject)')}</h2>
<p>To ${escape(mail.to?.text ?? '')} · ${escape(mail.date?.toISOString() ?? '')} · <a href="/${encodeURIComponent(file)}">raw</a></p>
<pre>${linked(mail.text ?? '')}</pre></article>`);
    }
    response.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      'cache-control': 'no-store',
    });
    response.end(`<!doctype html><meta charset="utf-8"><title>Tessera development mail</title>
<style>body{font-family:sans-serif;max-width:50rem;margin:2rem auto}pre{white-space:pre-wrap;background:#f4f4f4;padding:1rem}</style>
<h1>Mail sent by auth-service (development)</h1><p>${files.length} in ${escape(folder)}; the newest ${SHOWN} shown.</p>
${items.join('\n') || '<p>None yet: register an account.</p>'}`);
  });
  try {
    await listen(smtp, MAIL_CATCHER_SMTP_PORT);
    await listen(page, MAIL_CATCHER_PAGE_PORT);
  } catch (error) {
    smtp.close();
    say(
      `No development mail catcher (${error.message}); mail waits in auth-service's outbox until SMTP_URL is set.`,
    );
    return undefined;
  }
  smtp.server.unref();
  page.unref();
  return {
    smtpUrl: `smtp://127.0.0.1:${MAIL_CATCHER_SMTP_PORT}`,
    pageUrl: `http://127.0.0.1:${MAIL_CATCHER_PAGE_PORT}`,
  };
}

function listen(server, port) {
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolvePromise());
  });
}

/**
 * Starts the catcher (startMailCatcher) and points auth-service's environment at it; says where
 * the mail can be read. `npm start` and `npm run dev` call it once.
 */
export async function useMailCatcher(environments, environment = process.env) {
  const catcher = await startMailCatcher(environment);
  if (!catcher || !environments['auth-service']) return;
  environments['auth-service'].SMTP_URL = catcher.smtpUrl;
  say(`Development mail: auth-service sends to ${catcher.smtpUrl}; read it at ${catcher.pageUrl}`);
}
