import type { JetStreamManager } from 'nats';
import { nanos, RetentionPolicy, StorageType } from 'nats';
import type { RevocationEvent } from '../revocation/revocation-feed';

/**
 * auth-service's domain events on NATS JetStream (docs/events.md): what each one carries. Every
 * subject is `tessera.events.<type>`; the stream `TESSERA_EVENTS` keeps them for a week.
 */
export interface DomainEvents {
  /** An account was created (the first-party sign-up, or an administrator's command). */
  'user.registered': { user_id: string; registered_at: number };
  /** An account was disabled: its sessions are revoked in the same transaction. */
  'user.disabled': { user_id: string; disabled_at: number };
  /**
   * A session, or every session of a user, ended: the revocation log's entry (ADR 0009), with its
   * position as `id`. Published for every way a session ends, SQL included.
   */
  'session.revoked': RevocationEvent;
  /** A new signing key was made; it signs from `active_from` (epoch seconds). */
  'signing-key.rotated': { kid: string; alg: string; active_from: number };
}

export type DomainEventType = keyof DomainEvents;

export const DOMAIN_EVENT_TYPES: readonly DomainEventType[] = [
  'user.registered',
  'user.disabled',
  'session.revoked',
  'signing-key.rotated',
];

/** The JetStream stream that holds every domain event. */
export const EVENTS_STREAM = 'TESSERA_EVENTS';
const SUBJECT_PREFIX = 'tessera.events.';
/** How long the stream keeps an event: a consumer away for longer misses what was dropped. */
const EVENTS_MAX_AGE_MS = 7 * 24 * 3600_000;
/** Publications with the same Nats-Msg-Id within this window are stored once. */
const DUPLICATE_WINDOW_MS = 2 * 60_000;

/** `tessera.events.<type>`. */
export function eventSubject(type: DomainEventType): string {
  return `${SUBJECT_PREFIX}${type}`;
}

/** The event type of a subject of the stream, or undefined for any other subject. */
export function eventTypeOf(subject: string): string | undefined {
  return subject.startsWith(SUBJECT_PREFIX) ? subject.slice(SUBJECT_PREFIX.length) : undefined;
}

/**
 * Creates the events stream unless it exists. Publisher and consumers both call it, so whichever
 * starts first makes it (file storage, limits retention: every consumer reads every event).
 */
export async function ensureEventsStream(manager: JetStreamManager): Promise<void> {
  try {
    await manager.streams.info(EVENTS_STREAM);
    return;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  try {
    await manager.streams.add({
      name: EVENTS_STREAM,
      subjects: [`${SUBJECT_PREFIX}>`],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      max_age: nanos(EVENTS_MAX_AGE_MS),
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    });
  } catch (error) {
    // Another service made it in the meantime.
    if (!/already in use/i.test(String(error))) throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return /not found/i.test(String(error));
}
