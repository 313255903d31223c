/** The payload of a message on the outbox's `mail` channel: rendered, ready to send. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** The outbox channel account mail travels on. */
export const MAIL_CHANNEL = 'mail';
