import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { UsersModule } from '../users/users.module';
import { ClockModule } from '../clock/clock.module';
import { LoginFailure } from './login-failure.entity';
import { LoginThrottle } from './login-throttle.service';
import { LoginService } from './login.service';

@Module({
  imports: [TypeOrmModule.forFeature([LoginFailure]), UsersModule, AuditModule, ClockModule],
  providers: [LoginService, LoginThrottle],
  exports: [LoginService],
})
export class LoginModule {}
