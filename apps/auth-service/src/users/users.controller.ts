import { Body, Controller, Post, Req } from '@nestjs/common';
import { Public } from '@tessera/platform';
import type { FastifyRequest } from 'fastify';
import { RegisterDto } from './dto/register.dto';
import { UsersService } from './users.service';

@Controller('auth')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Public()
  @Post('register')
  async register(
    @Body() body: RegisterDto,
    @Req() request: FastifyRequest,
  ): Promise<{ id: string; email: string }> {
    const user = await this.users.register(body.email, body.password, {
      clientAddress: request.ip,
      userAgent: request.headers['user-agent'],
    });
    return { id: user.id, email: user.email };
  }
}
