import { Controller, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import {
  ClientProxyFactory,
  EventPattern,
  MessagePattern,
  Payload,
  ServerNats,
  Transport,
} from '@nestjs/microservices';
import type { ClientProxy } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { bearerMessage } from '@tessera/auth-client';
import { TestIssuer } from '@tessera/auth-testing';
import { Public, Scopes } from '@tessera/auth-token';
import type { Principal } from '@tessera/auth-token';
import {
  createServiceApplication,
  HttpErrorFilter,
  MESSAGE_TRANSPORTS,
  Metrics,
  ServiceEnvironment,
} from '@tessera/platform';
import { NatsTestServer } from '@tessera/platform-testing';
import { lastValueFrom } from 'rxjs';
import { AuthModule } from '../auth.module';
import { CurrentPrincipal } from '../decorators/current-principal.decorator';

/**
 * The one guard on message handlers, over a real nats-server: the token travels in the message's
 * `authorization` header, a refusal comes back as the RpcException of the HTTP answer, and
 * `@Scopes()` works as on a route. The handlers run in a hybrid application built the way every
 * service is (createServiceApplication with MESSAGE_TRANSPORTS).
 */

const touched: string[] = [];

@Controller()
class NotesMessages {
  @Scopes('notes:read')
  @MessagePattern('notes.count')
  count(@CurrentPrincipal() caller: Principal) {
    return { owner: caller.subject, count: 3 };
  }

  @Public()
  @MessagePattern('notes.ping')
  ping() {
    return 'pong';
  }

  @Scopes('notes:write')
  @EventPattern('notes.touched')
  touch(@Payload() event: { mark: string }) {
    touched.push(event.mark);
  }
}

let nats: NatsTestServer;
let issuer: TestIssuer;
let other: TestIssuer;
let app: NestFastifyApplication;
let client: ClientProxy;

beforeAll(async () => {
  [nats, issuer, other] = await Promise.all([
    NatsTestServer.start(),
    TestIssuer.start({ audience: 'notes-service' }),
    TestIssuer.start({ audience: 'notes-service' }),
  ]);
  @Module({
    imports: [AuthModule.forRoot(issuer.moduleOptions())],
    controllers: [NotesMessages],
    providers: [
      { provide: APP_FILTER, useClass: HttpErrorFilter },
      { provide: MESSAGE_TRANSPORTS, useValue: [new ServerNats({ servers: [nats.url] })] },
    ],
  })
  class NotesModule {}
  const environment = Object.assign(new ServiceEnvironment(), { LOG_LEVEL: 'fatal' as const });
  app = await createServiceApplication(NotesModule, environment);
  client = ClientProxyFactory.create({
    transport: Transport.NATS,
    options: { servers: [nats.url] },
  });
  await client.connect();
}, 60_000);

afterAll(async () => {
  await client?.close();
  await app?.close();
  await Promise.all([nats?.stop(), issuer?.stop(), other?.stop()]);
});

const count = (data: unknown) => lastValueFrom(client.send('notes.count', data));
const refusals = async (reason: string) => {
  const text = await app.get(Metrics).render();
  const line = text
    .split('\n')
    .find((row) => row.startsWith(`tessera_guard_refusals_total{reason="${reason}"}`));
  return Number(line?.split(' ').at(-1) ?? 0);
};

describe('a @MessagePattern handler', () => {
  it('answers a caller whose token has the scope, and hands it the principal', async () => {
    const token = issuer.accessToken({ sub: 'user-1', scope: 'notes:read' });
    await expect(count(bearerMessage({}, token))).resolves.toEqual({ owner: 'user-1', count: 3 });
  });

  it('refuses a message without a token: 401 with the bare Bearer challenge', async () => {
    await expect(count({})).rejects.toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'An access token is required',
      challenge: 'Bearer',
    });
  });

  it('refuses a forged token (signed by a key the issuer never published): 401 invalid_token', async () => {
    const forged = other.accessToken({ iss: issuer.issuer, scope: 'notes:read' });
    const before = await refusals('unknown_key');
    await expect(count(bearerMessage({}, forged))).rejects.toMatchObject({
      statusCode: 401,
      error: 'invalid_token',
      challenge: 'Bearer error="invalid_token"',
    });
    expect(await refusals('unknown_key')).toBe(before + 1);
  });

  it('refuses a token for another audience: 401 invalid_token', async () => {
    const elsewhere = issuer.accessToken({ aud: ['orders-service'], scope: 'notes:read' });
    const before = await refusals('audience');
    await expect(count(bearerMessage({}, elsewhere))).rejects.toMatchObject({
      statusCode: 401,
      error: 'invalid_token',
    });
    expect(await refusals('audience')).toBe(before + 1);
  });

  it('refuses a token without the scope the handler asks: 403 insufficient_scope', async () => {
    const token = issuer.accessToken({ scope: 'notes:write' });
    await expect(count(bearerMessage({}, token))).rejects.toEqual({
      statusCode: 403,
      error: 'insufficient_scope',
      message: 'This needs the scope notes:read',
      challenge: 'Bearer error="insufficient_scope", scope="notes:read"',
    });
  });

  it('refuses an expired token: 401 invalid_token', async () => {
    const expired = issuer.accessToken({ scope: 'notes:read' }, { expiresIn: -120 });
    await expect(count(bearerMessage({}, expired))).rejects.toMatchObject({
      statusCode: 401,
      error: 'invalid_token',
    });
  });

  it('runs a @Public() handler without a token', async () => {
    await expect(lastValueFrom(client.send('notes.ping', {}))).resolves.toBe('pong');
  });
});

describe('an @EventPattern handler', () => {
  it('handles only the events whose token has the scope', async () => {
    const before = await refusals('insufficient_scope');
    client.emit('notes.touched', { mark: 'no token' });
    client.emit(
      'notes.touched',
      bearerMessage(
        { mark: 'forged' },
        other.accessToken({ iss: issuer.issuer, scope: 'notes:write' }),
      ),
    );
    client.emit(
      'notes.touched',
      bearerMessage({ mark: 'read only' }, issuer.accessToken({ scope: 'notes:read' })),
    );
    client.emit(
      'notes.touched',
      bearerMessage({ mark: 'right' }, issuer.accessToken({ scope: 'notes:write' })),
    );
    const deadline = Date.now() + 10_000;
    while (
      (!touched.includes('right') || (await refusals('insufficient_scope')) === before) &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Every refusal has been counted by now, so nothing else is still on its way to the handler.
    expect(touched).toEqual(['right']);
  });
});
