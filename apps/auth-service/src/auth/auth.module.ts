import { Module } from '@nestjs/common';
import { GuardMetrics } from '@tessera/auth';
import { AuditModule } from '../audit/audit.module';
import { ClientsModule } from '../clients/clients.module';
import { KeysModule } from '../keys/keys.module';
import { LoginModule } from '../login/login.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AdminRoleGuard } from './admin-role.guard';
import { AdminController } from './admin.controller';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { RefreshTokenCookie } from './refresh-token-cookie';
import { SessionAccessGuard } from './session-access.guard';

/** The first-party HTTP surface: login, refresh, logout, sessions, password change. */
@Module({
  imports: [AuditModule, ClientsModule, KeysModule, LoginModule, SessionsModule, UsersModule],
  controllers: [AuthController, AdminController],
  providers: [AuthService, AdminRoleGuard, GuardMetrics, RefreshTokenCookie, SessionAccessGuard],
  exports: [AuthService, GuardMetrics, SessionAccessGuard],
})
export class AuthModule {}
