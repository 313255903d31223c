import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { Eta } from 'eta';
import type { EntityManager } from 'typeorm';
import { authServiceConfig } from '../config/auth-service.config';
import { OutboxService } from '../outbox/outbox.service';
import { MAIL_CHANNEL } from './mail-message';
import type { MailMessage } from './mail-message';
import { MAIL_TEMPLATES } from './mail-templates';
import type { MailTemplateName } from './mail-templates';

/** The pages the links in account mail open, under PUBLIC_URL. */
export const ACCOUNT_LINK_PATHS = {
  verifyEmail: '/account/verify-email',
  resetPassword: '/account/reset-password',
  confirmEmailChange: '/account/confirm-email-change',
  undoEmailChange: '/account/undo-email-change',
  forgotPassword: '/account/forgot-password',
} as const;

/**
 * Renders an account mail from its template and puts it in the outbox, in the caller's
 * transaction: the mail is sent if and only if the change it tells of commits, and a mail server
 * that is down delays it without losing it (MailSender retries).
 */
@Injectable()
export class MailComposer {
  private readonly html = new Eta({ autoEscape: true, autoTrim: false });
  private readonly text = new Eta({ autoEscape: false, autoTrim: false });

  constructor(
    private readonly outbox: OutboxService,
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  /** A link to one of the account pages, from PUBLIC_URL (else ISSUER), never a request's Host. */
  link(path: string, token?: string): string {
    const url = new URL(path, `${this.environment.PUBLIC_URL ?? this.environment.ISSUER}/`);
    if (token !== undefined) url.searchParams.set('token', token);
    return url.toString();
  }

  async enqueue(
    manager: EntityManager,
    to: string,
    template: MailTemplateName,
    data: Record<string, string>,
  ): Promise<void> {
    const { subject, text, html } = MAIL_TEMPLATES[template];
    const values = {
      ...data,
      site: new URL(this.environment.PUBLIC_URL ?? this.environment.ISSUER).host,
    };
    const message: MailMessage = {
      to,
      subject,
      text: this.text.renderString(text, values),
      html: this.html.renderString(html, values),
    };
    await this.outbox.enqueue(manager, MAIL_CHANNEL, message);
  }
}

/** "30 minutes", "1 hour", "7 days": a lifetime in words for a mail. */
export function inWords(seconds: number): string {
  const units: [number, string][] = [
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units) {
    if (seconds >= size && seconds % size === 0) {
      const count = seconds / size;
      return `${count} ${name}${count === 1 ? '' : 's'}`;
    }
  }
  const minutes = Math.max(1, Math.round(seconds / 60));
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}
