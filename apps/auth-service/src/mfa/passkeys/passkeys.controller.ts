import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Req,
  UseGuards,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import {
  CurrentPrincipal,
  invalidBearerToken,
  RequireAuthentication,
} from '@tessera/auth-resource-server';
import type { Principal } from '@tessera/auth-token';
import { ApiErrors } from '@tessera/platform';
import type { FastifyRequest } from 'fastify';
import { contextOf } from '../../auth/auth.service';
import { JsonBodyGuard, NOT_JSON_BODY } from '../../auth/json-body.guard';
import { UsersService } from '../../users/users.service';
import { PasskeyNameDto, RegisterPasskeyDto } from '../dto/passkey.dto';
import {
  PasskeyListResponse,
  PasskeyResponse,
  RegisteredPasskeyResponse,
  WEBAUTHN_OPTIONS_SCHEMA,
} from '../dto/mfa.responses';
import { FRESH_SECOND_FACTOR } from '../fresh-second-factor';
import { MfaService } from '../mfa.service';
import { PasskeysService } from './passkeys.service';
import type { PasskeyView } from './passkeys.service';

const NO_SUCH_PASSKEY = { status: 404, description: "No such passkey of the caller's" };

/** The caller's passkeys: register several, name them, delete them. */
@ApiTags('second factors')
@ApiErrors(503)
@UseGuards(JsonBodyGuard)
@Controller('auth/passkeys')
export class PasskeysController {
  constructor(
    private readonly passkeys: PasskeysService,
    private readonly mfa: MfaService,
    private readonly users: UsersService,
  ) {}

  @ApiOperation({
    summary:
      'Options for navigator.credentials.create(): a discoverable passkey with user verification',
    description: `The challenge is single-use and lives 120 seconds.`,
  })
  @ApiOkResponse({
    description: 'PublicKeyCredentialCreationOptionsJSON',
    schema: WEBAUTHN_OPTIONS_SCHEMA,
  })
  @Post('registration-options')
  @HttpCode(200)
  async registrationOptions(@CurrentPrincipal() user: Principal) {
    const account = await this.users.findById(user.subject);
    if (!account) throw invalidBearerToken();
    return this.passkeys.registrationOptions(account);
  }

  @ApiOperation({ summary: 'Registers the passkey the browser made for those options' })
  @ApiCreatedResponse({ type: RegisteredPasskeyResponse })
  @ApiErrors(
    {
      status: 400,
      description: '`invalid_passkey`: it did not verify, or its challenge was used or expired',
    },
    NOT_JSON_BODY,
  )
  @Post()
  async register(
    @CurrentPrincipal() user: Principal,
    @Body() body: RegisterPasskeyDto,
    @Req() request: FastifyRequest,
  ): Promise<RegisteredPasskeyResponse> {
    const hadFactor = (await this.mfa.methodsOf(user.subject)).length > 0;
    const passkey = await this.passkeys.register(user.subject, body.response, body.name);
    await this.mfa.record(user.subject, 'passkey', 'enrolled', contextOf(request));
    const recoveryCodes = hadFactor
      ? []
      : await this.mfa.firstFactorEnrolled(user.subject, user.sessionId, contextOf(request));
    return { ...view(passkey), recovery_codes: recoveryCodes };
  }

  @ApiOperation({ summary: "The caller's passkeys" })
  @ApiOkResponse({ type: PasskeyListResponse })
  @Get()
  async list(@CurrentPrincipal() user: Principal): Promise<PasskeyListResponse> {
    return { passkeys: (await this.passkeys.list(user.subject)).map(view) };
  }

  @ApiOperation({ summary: 'Renames a passkey' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: PasskeyResponse })
  @ApiErrors(NO_SUCH_PASSKEY, NOT_JSON_BODY)
  @Patch(':id')
  async rename(
    @CurrentPrincipal() user: Principal,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: PasskeyNameDto,
  ): Promise<PasskeyResponse> {
    return view(await this.passkeys.rename(user.subject, id, body.name));
  }

  @ApiOperation({
    summary: 'Deletes a passkey (needs a fresh second factor)',
    description:
      'The access token must come from a sign-in with a second factor in the last 5 minutes. Without any factor left, the recovery codes go too.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(NO_SUCH_PASSKEY, {
    status: 401,
    description:
      '`insufficient_user_authentication` (RFC 9470): sign in again with a second factor',
  })
  @RequireAuthentication(FRESH_SECOND_FACTOR)
  @Delete(':id')
  @HttpCode(204)
  async remove(
    @CurrentPrincipal() user: Principal,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    await this.passkeys.remove(user.subject, id);
    await this.mfa.record(user.subject, 'passkey', 'removed', contextOf(request));
    await this.mfa.dropRecoveryCodesIfNoFactor(user.subject);
  }
}

function view(passkey: PasskeyView): PasskeyResponse {
  return {
    id: passkey.id,
    name: passkey.name,
    created_at: passkey.createdAt.toISOString(),
    last_used_at: passkey.lastUsedAt?.toISOString() ?? null,
  };
}
