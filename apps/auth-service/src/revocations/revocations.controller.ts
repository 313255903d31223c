import { Controller, Get, Logger, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '@tessera/auth-resource-server';
import { Scopes } from '@tessera/auth-token';
import type { Principal } from '@tessera/auth-token';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RevocationsService } from './revocations.service';
import type { RevocationEvent } from './revocations.service';

export const REVOCATIONS_SCOPE = 'revocations:read';
const HEARTBEAT_MS = 15_000;
const EVENT_ID = /^\d{1,19}$/;

/**
 * `GET /revocations`: the revocation log as server-sent events, for resource services that hold
 * a service token with `revocations:read`. First every event still in force after
 * `Last-Event-ID` (or `?after=`), then `event: ready`, then each new one as it is written. The
 * stream ends when the caller's token expires; the follower reconnects with a fresh one and its
 * last event id, losing nothing.
 */
@ApiTags('revocations')
@Scopes(REVOCATIONS_SCOPE)
@Controller('revocations')
export class RevocationsController {
  private readonly logger = new Logger(RevocationsController.name);

  constructor(private readonly revocations: RevocationsService) {}

  @ApiOperation({
    summary: 'The revocation log as server-sent events, for resource services',
    description:
      'A service token (client credentials) for auth-service with `revocations:read` (403 without it). ' +
      'Events since `Last-Event-ID` (or `?after=<id>`), then `event: ready`, then each new one.',
  })
  @ApiSecurity('bearer', [REVOCATIONS_SCOPE])
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: '`event: revocation` lines with JSON data, `event: ready` once caught up',
    schema: { type: 'string' },
  })
  @Get()
  async stream(
    @CurrentPrincipal() caller: Principal,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const after = lastEventIdOf(request);

    // From here on the connection is ours: Nest's reply handling would end it.
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies such as nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
    });
    // The stream may end (shutdown, token expiry, the caller leaving) while a backlog read is in
    // flight; a write after that would raise an error event nobody listens to.
    const write = (text: string) => {
      if (!raw.writableEnded && !raw.destroyed) raw.write(text);
    };
    write('retry: 1000\n\n');

    // Subscribe before reading the backlog, so nothing written in between is missed (events are
    // idempotent: one seen twice does no harm).
    const pending: RevocationEvent[] = [];
    let live = false;
    const send = (events: RevocationEvent[]) => {
      for (const event of events)
        write(`id: ${event.id}\nevent: revocation\ndata: ${JSON.stringify(event)}\n\n`);
    };
    const unsubscribe = this.revocations.subscribe({
      deliver: (events) => (live ? send(events) : pending.push(...events)),
      end: () => raw.end(),
    });
    const heartbeat = setInterval(() => write(': ping\n\n'), HEARTBEAT_MS);
    const expiry = setTimeout(() => raw.end(), Math.max(0, caller.expiresAt * 1000 - Date.now()));
    const close = () => {
      unsubscribe();
      clearInterval(heartbeat);
      clearTimeout(expiry);
    };
    raw.on('close', close);

    try {
      send(await this.revocations.since(after));
      send(pending.splice(0));
      live = true;
      write('event: ready\ndata: {}\n\n');
    } catch (error) {
      this.logger.warn(
        `Could not read the revocation backlog: ${error instanceof Error ? error.message : error}`,
      );
      raw.end();
    }
  }
}

function lastEventIdOf(request: FastifyRequest): string {
  const header = request.headers['last-event-id'];
  const query = (request.query as Record<string, unknown> | undefined)?.['after'];
  const value = typeof header === 'string' ? header : typeof query === 'string' ? query : '0';
  return EVENT_ID.test(value) ? value : '0';
}
