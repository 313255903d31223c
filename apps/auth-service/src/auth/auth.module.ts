import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ClientsModule } from '../clients/clients.module';
import { KeysModule } from '../keys/keys.module';
import { LoginModule } from '../login/login.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AdminController } from './admin.controller';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { RefreshTokenCookie } from './refresh-token-cookie';

/** The first-party HTTP surface: login, refresh, logout, sessions, password change. */
@Module({
  imports: [AuditModule, ClientsModule, KeysModule, LoginModule, SessionsModule, UsersModule],
  controllers: [AuthController, AdminController],
  providers: [AuthService, RefreshTokenCookie],
  exports: [AuthService],
})
export class AuthModule {}
