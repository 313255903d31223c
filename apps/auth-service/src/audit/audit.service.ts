import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { Clock } from '@tessera/auth-token';
import { Repository } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { authServiceConfig } from '../config/auth-service.config';
import { addressGroup } from '../login/address-group';
import { AuditEvent } from './audit-event.entity';
import type { AuditDetail, AuditEventType } from './audit-event.entity';

export interface AuditRecord {
  type: AuditEventType;
  userId?: string;
  sessionId?: string;
  clientAddress?: string;
  userAgent?: string;
  detail?: AuditDetail;
}

/** A hostile User-Agent must not bloat an append-only table that nobody may trim. */
const USER_AGENT_MAX_LENGTH = 512;

/**
 * The events anyone can cause without a credential: each costs an attacker one request, so they
 * are written at most AUDIT_UNAUTHENTICATED_LIMIT times a minute per (type, address group).
 */
export const UNAUTHENTICATED_EVENT_TYPES: ReadonlySet<AuditEventType> = new Set([
  'login.failed',
  'login.throttled',
  'client.authentication_failed',
  'introspection.denied',
  'account.token_refused',
]);

const MINUTE_MS = 60_000;

/** Writes the append-only security log (checklist O5). */
@Injectable()
export class AuditService {
  constructor(
    @InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>,
    @Inject(authServiceConfig.KEY) private readonly env: ConfigType<typeof authServiceConfig>,
    private readonly clock: Clock,
  ) {}

  /**
   * Appends one event. `detail` is stored as readable JSON forever: never put a password, a
   * token, a token hash, an `Authorization` header or a whole request in it (checklist R27);
   * ids, reasons and counts are what belong there.
   *
   * An event a stranger can cause (UNAUTHENTICATED_EVENT_TYPES) is counted per minute and
   * (type, address group) first; past the limit it is not written, and `summarise()` later
   * appends one `audit.suppressed` row with the number left out.
   *
   * `within`: the transaction whose change this event records, so both commit or neither does.
   *
   * @example
   * await audit.record({ type: 'login.failed', userId: user.id, clientAddress, detail: { reason: 'wrong_password' } });
   */
  async record(event: AuditRecord, within?: EntityManager): Promise<void> {
    const events = within ? within.getRepository(AuditEvent) : this.events;
    if (UNAUTHENTICATED_EVENT_TYPES.has(event.type) && !(await this.withinLimit(event, events))) {
      return;
    }
    await events.insert({
      type: event.type,
      userId: event.userId ?? null,
      sessionId: event.sessionId ?? null,
      clientAddress: event.clientAddress ?? null,
      userAgent: withoutNul(event.userAgent?.slice(0, USER_AGENT_MAX_LENGTH)) ?? null,
      detail: event.detail === undefined ? null : detailWithoutNul(event.detail),
    });
  }

  /**
   * Turns the counters of the minutes that are over into one `audit.suppressed` row each where
   * events were left out, and drops them. Safe on several instances at once: a counter row is
   * deleted, and so summarised, by one of them only.
   *
   * @returns how many summary rows were appended
   */
  async summarise(): Promise<number> {
    const rows: unknown[] = await this.events.query(
      `WITH closed AS (
         DELETE FROM audit_rate WHERE minute < $1 RETURNING type, client_address, minute, seen
       )
       INSERT INTO audit_events (type, client_address, detail)
       SELECT 'audit.suppressed', NULLIF(client_address, ''),
              jsonb_build_object('type', type, 'suppressed', seen - $2::int,
                                 'minute', to_char(minute AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"'))
         FROM closed WHERE seen > $2::int
       RETURNING id`,
      [this.minute(), this.env.AUDIT_UNAUTHENTICATED_LIMIT],
    );
    return rows.length;
  }

  /**
   * Removes the rows older than AUDIT_RETENTION days through the schema's own pruning function,
   * the one DELETE the append-only trigger lets through (never a row younger than 30 days).
   *
   * @returns how many rows were removed
   */
  async prune(): Promise<number> {
    const [row]: { deleted: string }[] = await this.events.query(
      `SELECT audit_events_prune($1) AS deleted`,
      [this.env.AUDIT_RETENTION],
    );
    return Number(row.deleted);
  }

  private minute(): Date {
    return new Date(Math.floor(this.clock.now().getTime() / MINUTE_MS) * MINUTE_MS);
  }

  /** Counts the event in its minute; true while the count is within the limit. */
  private async withinLimit(event: AuditRecord, events: Repository<AuditEvent>): Promise<boolean> {
    const [row]: { seen: number }[] = await events.query(
      `INSERT INTO audit_rate (type, client_address, minute, seen) VALUES ($1, $2, $3, 1)
       ON CONFLICT (minute, type, client_address) DO UPDATE SET seen = audit_rate.seen + 1
       RETURNING seen`,
      [event.type, event.clientAddress ? addressGroup(event.clientAddress) : '', this.minute()],
    );
    return row.seen <= this.env.AUDIT_UNAUTHENTICATED_LIMIT;
  }
}

/**
 * PostgreSQL's text and jsonb hold no NUL character, and a detail may quote what a caller sent
 * (a client id from a form): a NUL there must not turn an audit write into a 500.
 */
function withoutNul(value: string | undefined): string | undefined {
  return value?.replaceAll('\0', '\uFFFD');
}

function detailWithoutNul<T>(detail: T): T {
  const json = JSON.stringify(detail);
  return json.includes('\\u0000')
    ? (JSON.parse(json.replaceAll('\\u0000', '\\ufffd')) as T)
    : detail;
}
