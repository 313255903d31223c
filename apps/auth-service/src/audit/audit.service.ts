import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { EntityManager } from 'typeorm';
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

/** Writes the append-only security log (checklist O5). */
@Injectable()
export class AuditService {
  constructor(@InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>) {}

  /**
   * Appends one event. `detail` is stored as readable JSON forever: never put a password, a
   * token, a token hash, an `Authorization` header or a whole request in it (checklist R27);
   * ids, reasons and counts are what belong there.
   *
   * `within`: the transaction whose change this event records, so both commit or neither does.
   *
   * @example
   * await audit.record({ type: 'login.failed', userId: user.id, clientAddress, detail: { reason: 'wrong_password' } });
   */
  async record(event: AuditRecord, within?: EntityManager): Promise<void> {
    const events = within ? within.getRepository(AuditEvent) : this.events;
    await events.insert({
      type: event.type,
      userId: event.userId ?? null,
      sessionId: event.sessionId ?? null,
      clientAddress: event.clientAddress ?? null,
      userAgent: event.userAgent?.slice(0, USER_AGENT_MAX_LENGTH) ?? null,
      detail: event.detail ?? null,
    });
  }
}
