import { createHash, randomBytes } from 'node:crypto';

/**
 * A browser without a browser, for tests: follows nothing on its own, keeps cookies by name, and
 * fills the hosted pages' forms with the CSRF token they were rendered with.
 */
export class PageClient {
  readonly cookies = new Map<string, string>();
  /** The CSRF token of the last form `submit` read: valid for the next post as well. */
  lastCsrf = '';

  /** @param sent headers every request carries too (an `x-forwarded-for` to come from elsewhere) */
  constructor(
    readonly baseUrl: string,
    private readonly sent: Record<string, string> = {},
  ) {}

  async get(url: string): Promise<Response> {
    return this.keep(
      await fetch(new URL(url, this.baseUrl), { redirect: 'manual', headers: this.headers() }),
    );
  }

  async post(url: string, form: Record<string, string>): Promise<Response> {
    return this.keep(
      await fetch(new URL(url, this.baseUrl), {
        method: 'POST',
        redirect: 'manual',
        headers: { ...this.headers(), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form),
      }),
    );
  }

  /** GETs the page at `url`, then posts its form with `fields` and the page's hidden fields. */
  async submit(url: string, fields: Record<string, string>): Promise<Response> {
    const page = await this.get(url);
    const html = await page.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`No form at ${url} (${page.status}): ${html.slice(0, 300)}`);
    const hidden: Record<string, string> = {};
    for (const [, name, value] of html.matchAll(
      /<input type="hidden" name="([^"]+)" value="([^"]*)">/g,
    )) {
      hidden[name as string] = decodeEntities(value as string);
    }
    this.lastCsrf = hidden['_csrf'] ?? '';
    return this.post(action, { ...hidden, ...fields });
  }

  private headers(): Record<string, string> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    return cookie ? { ...this.sent, cookie } : { ...this.sent };
  }

  private keep(response: Response): Response {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator);
      const value = pair.slice(separator + 1);
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '')
        this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }
}

function decodeEntities(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** A PKCE verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}
