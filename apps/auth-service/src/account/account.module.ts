import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { ClockModule } from '../clock/clock.module';
import { MailModule } from '../mail/mail.module';
import { PagesModule } from '../pages/pages.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AccountMailThrottle } from './account-mail-throttle';
import { AccountPagesController } from './account-pages.controller';
import { AccountTokens } from './account-tokens';
import { AccountToken } from './account-token.entity';
import { AccountController } from './account.controller';
import { AccountMetrics } from './account.metrics';
import { DetachedWork } from './detached-work';
import { EmailChangeService } from './email-change.service';
import { EmailVerificationService } from './email-verification.service';
import { PasswordResetService } from './password-reset.service';

/** Email verification, password reset and email change (docs/account-lifecycle.md). */
@Module({
  imports: [
    TypeOrmModule.forFeature([AccountToken]),
    AuditModule,
    ClockModule,
    MailModule,
    PagesModule,
    SessionsModule,
    UsersModule,
  ],
  controllers: [AccountController, AccountPagesController],
  providers: [
    AccountMailThrottle,
    AccountMetrics,
    AccountTokens,
    DetachedWork,
    EmailChangeService,
    EmailVerificationService,
    PasswordResetService,
  ],
  exports: [EmailVerificationService, PasswordResetService, EmailChangeService],
})
export class AccountModule {}
