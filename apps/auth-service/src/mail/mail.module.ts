import { Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module';
import { MailComposer } from './mail.composer';
import { MailSender } from './mail.sender';

/** Account mail: composed into the outbox in a feature's transaction, sent over SMTP from it. */
@Module({
  imports: [OutboxModule],
  providers: [MailComposer, MailSender],
  exports: [MailComposer],
})
export class MailModule {}
