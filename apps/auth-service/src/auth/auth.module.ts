import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ClientsModule } from '../clients/clients.module';
import { KeysModule } from '../keys/keys.module';
import { LoginModule } from '../login/login.module';
import { MfaModule } from '../mfa/mfa.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AdminController } from './admin.controller';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { RefreshTokenCookie } from './refresh-token-cookie';
import { SecondFactorLoginController } from './second-factor-login.controller';
import { SecondFactorSignInService } from './second-factor-sign-in.service';

/** The first-party HTTP surface: login, refresh, logout, sessions, password change. */
@Module({
  imports: [
    AuditModule,
    ClientsModule,
    KeysModule,
    LoginModule,
    MfaModule,
    SessionsModule,
    UsersModule,
  ],
  controllers: [AuthController, AdminController, SecondFactorLoginController],
  providers: [AuthService, RefreshTokenCookie, SecondFactorSignInService],
  exports: [AuthService],
})
export class AuthModule {}
