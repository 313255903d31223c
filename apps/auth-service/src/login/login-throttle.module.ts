import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoginFailure } from './login-failure.entity';
import { LoginThrottle } from './login-throttle.service';

/**
 * The throttle alone, for the modules that count attempts with it: logins and password changes
 * (LoginModule) and registrations (UsersModule), which LoginModule itself depends on.
 */
@Module({
  imports: [TypeOrmModule.forFeature([LoginFailure])],
  providers: [LoginThrottle],
  exports: [LoginThrottle],
})
export class LoginThrottleModule {}
