import { Body, Controller, Post, Req, UseGuards } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '@tessera/platform';
import { Public } from '@tessera/auth-token';
import type { FastifyRequest } from 'fastify';
import { JsonBodyGuard, NOT_JSON_BODY } from '../auth/json-body.guard';
import { RegisterDto } from './dto/register.dto';
import { RegisteredUserResponse } from './dto/registered-user.response';
import { UsersService } from './users.service';

@ApiTags('auth')
@UseGuards(JsonBodyGuard)
@Controller('auth')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @ApiOperation({ summary: 'Creates an account' })
  @ApiCreatedResponse({ type: RegisteredUserResponse })
  @ApiErrors(
    { status: 409, description: '`email_taken`: an account with this email exists' },
    {
      status: 429,
      description:
        '`too_many_registrations`: REGISTRATION_ADDRESS_LIMIT reached for this address; see Retry-After',
    },
    NOT_JSON_BODY,
    503,
  )
  @Public()
  @Post('register')
  async register(
    @Body() body: RegisterDto,
    @Req() request: FastifyRequest,
  ): Promise<RegisteredUserResponse> {
    const user = await this.users.register(body.email, body.password, {
      clientAddress: request.ip,
      userAgent: request.headers['user-agent'],
    });
    return { id: user.id, email: user.email };
  }
}
