import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type * as Nodemailer from 'nodemailer';
import { authServiceConfig } from '../config/auth-service.config';
import { OutboxChannel, OutboxPermanentFailure } from '../outbox/outbox-handler';
import type { OutboxDelivery, OutboxHandler } from '../outbox/outbox-handler';
import { MAIL_CHANNEL } from './mail-message';
import type { MailMessage } from './mail-message';

/** Well below the outbox's 60 s lease, so a hung server never lets two instances send. */
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 };

/**
 * Sends the outbox's mail over SMTP with nodemailer, one message at a time. A server that is
 * down or answers 4xx is tried again with the outbox's backoff; a 5xx refusal of the recipient
 * is final (the message stays in the outbox as failed, for an operator).
 */
@OutboxChannel(MAIL_CHANNEL)
@Injectable()
export class MailSender implements OutboxHandler<MailMessage> {
  private readonly logger = new Logger(MailSender.name);

  constructor(
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  async deliver(message: MailMessage, delivery: OutboxDelivery): Promise<void> {
    const url = this.environment.SMTP_URL;
    if (!url) throw new Error('SMTP_URL is not set; the mail waits in the outbox');
    // Required on the first mail, not at start (docs/performance.md, "Start-up and memory").
    const { createTransport } = require('nodemailer') as typeof Nodemailer;
    const transport = createTransport({ url, ...SMTP_TIMEOUTS });
    try {
      await transport.sendMail({
        from: this.environment.MAIL_FROM,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        // The same id on every retry, so a server that took it before a lost answer can tell.
        messageId: `<outbox-${delivery.id}@tessera>`,
      });
    } catch (error) {
      const code = (error as { responseCode?: unknown }).responseCode;
      if (typeof code === 'number' && code >= 500 && code < 600) {
        throw new OutboxPermanentFailure(`the mail server refused it: ${String(code)}`);
      }
      throw error;
    } finally {
      transport.close();
    }
    this.logger.log(`Sent mail ${delivery.id} (${message.subject})`);
  }
}
