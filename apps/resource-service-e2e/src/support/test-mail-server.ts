import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface CaughtMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * An SMTP server in the test process that parses what it receives (smtp-server + mailparser):
 * what auth-service's SMTP_URL points at. It can be stopped and started again on the same port,
 * as a mail server that goes down and comes back.
 */
export class TestMailServer {
  readonly mails: CaughtMail[] = [];
  private server?: SMTPServer;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly port: number) {}

  static async start(port: number): Promise<TestMailServer> {
    const mail = new TestMailServer(port);
    await mail.resume();
    return mail;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async resume(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, _session, callback) => {
        simpleParser(stream)
          .then((parsed) => {
            const to = Array.isArray(parsed.to) ? parsed.to[0] : parsed.to;
            this.mails.push({
              to: to?.value[0]?.address ?? '',
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
            });
            for (const wake of this.waiters) wake();
            callback();
          })
          .catch(callback);
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Stops listening: connections are refused until resume(). */
  async pause(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  stop(): Promise<void> {
    return this.pause();
  }

  /** The first mail to `to` (whose subject matches) not taken before; waits for it. */
  async take(to: string, subject = /./, timeoutMs = 30_000): Promise<CaughtMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.mails.findIndex((mail) => mail.to === to && subject.test(mail.subject));
      if (index >= 0) return this.mails.splice(index, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no mail to ${to} matching ${subject} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 500));
        this.waiters.add(wake);
      });
    }
  }
}

/** The `token` of the first link in a mail's text that leads to `path`. */
export function linkToken(mail: CaughtMail, path: string): { url: URL; token: string } {
  const link = mail.text
    .match(/https?:\/\/\S+/g)
    ?.map((href) => new URL(href))
    .find((url) => url.pathname === path);
  const token = link?.searchParams.get('token');
  if (!link || !token) throw new Error(`no link to ${path} in:\n${mail.text}`);
  return { url: link, token };
}
