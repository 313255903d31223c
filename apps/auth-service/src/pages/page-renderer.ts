import { Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

/** What a page may add to its content security policy: the client URIs its forms lead to. */
export interface PageOptions {
  status?: number;
  /** Exact URIs a form on this page ends up at after redirects (CSP `form-action`). */
  formTargets?: readonly string[];
  /**
   * The page loads `/signin/passkeys.js` (its passkey button), which fetches WebAuthn options from this
   * origin: `script-src 'self'` and `connect-src 'self'`, still no inline script.
   */
  script?: boolean;
}

/**
 * Renders a hosted page (views/*.eta inside views/layout.eta) with the headers every page
 * carries: a CSP with no inline script or style at all (the one stylesheet is `/pages.css`, the
 * one script `/signin/passkeys.js`, allowed only on the pages that use it), no
 * framing by any origin (`frame-ancestors 'none'` and `X-Frame-Options: DENY`), never cached.
 * `form-action` lists this origin and the exact client URIs the page's forms redirect to:
 * Chromium applies it to every redirect after a form post.
 */
@Injectable()
export class PageRenderer {
  async render(
    reply: FastifyReply,
    view: string,
    data: Record<string, unknown>,
    options: PageOptions = {},
  ): Promise<void> {
    const formAction = ["'self'", ...(options.formTargets ?? [])].join(' ');
    const script = options.script ? "script-src 'self'; connect-src 'self'; " : '';
    const csrfToken = reply.generateCsrf();
    const html = await reply.viewAsync(view, { ...data, csrfToken });
    reply
      .status(options.status ?? 200)
      .header(
        'content-security-policy',
        `default-src 'none'; ${script}style-src 'self'; img-src 'self'; form-action ${formAction}; ` +
          "frame-ancestors 'none'; base-uri 'none'",
      )
      .header('x-frame-options', 'DENY')
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(html);
  }
}
