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

/**
 * `GET /revocations`: the revocation log as server-sent events, for resource services that hold
 * a service token with `revocations:read`. An event's id is its position in the log, handed out
 * in commit order. First every event still in force after `Last-Event-ID` (or `?after=`), the
 * last position the follower applied; then `event: ready`, whose id is the position the follower
 * has now caught up to; then each new event as it commits. A position the log cannot resume from
 * (rows after it were pruned, or it is beyond the log's end) gets `event: reset` first and the
 * full list of revocations in force. The stream ends when the caller's token expires; the
 * follower reconnects with a fresh one and its last position, losing nothing.
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
      'Events after the position in `Last-Event-ID` (or `?after=<id>`), then `event: ready` (its id: the position caught up to), then each new one in commit order. ' +
      'A position that cannot be resumed (pruned past, or unknown) first gets `event: reset` and then every revocation in force.',
  })
  @ApiSecurity('bearer', [REVOCATIONS_SCOPE])
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description:
      '`event: revocation` lines with JSON data, `event: reset` before a full list, `event: ready` once caught up',
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

    // Subscribe before reading the backlog, so nothing written in between is missed; what the
    // backlog already holds (positions up to `through`) is not sent again.
    const pending: RevocationEvent[] = [];
    let through: bigint | undefined;
    const send = (events: RevocationEvent[]) => {
      for (const event of events) {
        const position = BigInt(event.id);
        if (through !== undefined && position <= through) continue;
        write(`id: ${event.id}\nevent: revocation\ndata: ${JSON.stringify(event)}\n\n`);
        if (through !== undefined) through = position;
      }
    };
    const unsubscribe = this.revocations.subscribe({
      deliver: (events) => (through === undefined ? pending.push(...events) : send(events)),
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
      const backlog = await this.revocations.since(after);
      // The follower's position is gone from the log: it takes the full list that follows.
      if (backlog.reset) write('event: reset\ndata: {}\n\n');
      send(backlog.events);
      through = BigInt(backlog.through);
      send(pending.splice(0));
      // Its id is where the follower resumes, even when no event came.
      write(`id: ${through}\nevent: ready\ndata: {}\n\n`);
    } catch (error) {
      this.logger.warn(
        `Could not read the revocation backlog: ${error instanceof Error ? error.message : error}`,
      );
      raw.end();
    }
  }
}

/** The follower's last position; undefined for a new follower. */
function lastEventIdOf(request: FastifyRequest): string | undefined {
  const header = request.headers['last-event-id'];
  const query = (request.query as Record<string, unknown> | undefined)?.['after'];
  return typeof header === 'string' ? header : typeof query === 'string' ? query : undefined;
}
