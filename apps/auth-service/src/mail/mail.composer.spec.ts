import type { EntityManager } from 'typeorm';
import type { OutboxService } from '../outbox/outbox.service';
import type { MailMessage } from './mail-message';
import { inWords, MailComposer } from './mail.composer';

describe('MailComposer', () => {
  const manager = {} as EntityManager;

  function composer(environment: { ISSUER: string; PUBLIC_URL?: string }) {
    const enqueued: { manager: EntityManager; channel: string; payload: MailMessage }[] = [];
    const outbox = {
      enqueue: async (within: EntityManager, channel: string, payload: object) => {
        enqueued.push({ manager: within, channel, payload: payload as MailMessage });
        return '1';
      },
    } as unknown as OutboxService;
    const mail = new MailComposer(outbox, environment as never);
    return { mail, enqueued };
  }

  it('builds links from PUBLIC_URL, else ISSUER, with the token as a query parameter', () => {
    expect(
      composer({
        ISSUER: 'https://auth.example.com',
        PUBLIC_URL: 'https://app.example.com',
      }).mail.link('/account/reset-password', 'abc_-123'),
    ).toBe('https://app.example.com/account/reset-password?token=abc_-123');
    expect(
      composer({ ISSUER: 'https://auth.example.com' }).mail.link('/account/forgot-password'),
    ).toBe('https://auth.example.com/account/forgot-password');
  });

  it('enqueues the rendered mail on the mail channel in the caller’s transaction, escaping only the HTML', async () => {
    const { mail, enqueued } = composer({ ISSUER: 'https://auth.example.com' });
    await mail.enqueue(manager, 'ada@example.com', 'email-changed', {
      newEmail: '<script>x</script>@example.com',
      link: 'https://auth.example.com/account/undo-email-change?token=t&x=1',
      validFor: '7 days',
    });
    const [{ manager: within, channel, payload }] = enqueued;
    expect(within).toBe(manager);
    expect(channel).toBe('mail');
    expect(payload.to).toBe('ada@example.com');
    expect(payload.subject).toBe('The email address of your account was changed');
    expect(payload.html).toContain('&lt;script&gt;x&lt;/script&gt;@example.com');
    expect(payload.html).not.toContain('<script>');
    expect(payload.html).toContain(
      'href="https://auth.example.com/account/undo-email-change?token=t&amp;x=1"',
    );
    expect(payload.text).toContain('<script>x</script>@example.com');
    expect(payload.text).toContain(
      'https://auth.example.com/account/undo-email-change?token=t&x=1',
    );
    expect(payload.text).toContain('for 7 days');
  });

  it('says a lifetime in words', () => {
    expect([1800, 3600, 86400, 604800, 90].map(inWords)).toEqual([
      '30 minutes',
      '1 hour',
      '1 day',
      '7 days',
      '2 minutes',
    ]);
  });
});
