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
  /** Errors of client connections (say, one reset mid-mail), oldest first. */
  readonly errors: string[] = [];
  private server?: SMTPServer;
  private readonly waiters = new Set<() => void>();
  /** What a test adds to a timed-out take()'s error: the sender's side of the story. */
  private explain?: () => Promise<string>;

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
      // Its client is always this host: no reverse DNS lookup (up to 1.5 s a connection).
      disableReverseLookup: true,
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
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    // A client's connection that fails mid-mail is the sender's to retry; noted for take()'s errors.
    server.on('error', (error) => this.errors.push(error.message));
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

  /** Adds `explain()`'s answer (say, the outbox's rows and the sender's log) to take()'s timeouts. */
  explainTimeoutsWith(explain: () => Promise<string>): void {
    this.explain = explain;
  }

  /** The first mail to `to` (whose subject matches) not taken before; waits for it. */
  async take(to: string, subject = /./, timeoutMs = 30_000): Promise<CaughtMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.mails.findIndex((mail) => mail.to === to && subject.test(mail.subject));
      if (index >= 0) return this.mails.splice(index, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0) {
        const last = this.mails.at(-1);
        const context = await this.explain?.().catch((error: unknown) => String(error));
        throw new Error(
          `no mail to ${to} matching ${subject} within ${timeoutMs} ms; ${this.mails.length} ` +
            `untaken mails${last ? `, the last to ${last.to} (${last.subject})` : ''}; ` +
            `connection errors: ${JSON.stringify(this.errors.slice(-10))}` +
            (context ? `\n${context}` : ''),
        );
      }
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
