import type * as Nats from 'nats';
import type { JetStreamManager } from 'nats';
import type { RevocationEvent } from '../revocation/revocation-feed';

/**
 * auth-service's domain events on NATS JetStream (docs/events.md): what each one carries. Every
 * subject is `tessera.events.<type>`; the stream `TESSERA_EVENTS` keeps them for a week.
 */
export interface DomainEvents {
  /** An account was created (the first-party sign-up, or an administrator's command). */
  'user.registered': { user_id: string; registered_at: number };
  /** An account was disabled; its sessions end right after, each announced by `session.revoked`. */
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

/** The JetStream stream that holds every domain event. */
export const EVENTS_STREAM = 'TESSERA_EVENTS';
/** Every event's subject starts so: `tessera.events.<type>`. */
export const EVENTS_SUBJECT_PREFIX = 'tessera.events.';
/** How long the stream keeps an event: a consumer away for longer misses what was dropped. */
const EVENTS_MAX_AGE_MS = 7 * 24 * 3600_000;
/** Publications with the same Nats-Msg-Id within this window are stored once. */
const DUPLICATE_WINDOW_MS = 2 * 60_000;

/** `tessera.events.<type>`. */
export function eventSubject(type: DomainEventType): string {
  return `${EVENTS_SUBJECT_PREFIX}${type}`;
}

/**
 * Creates the events stream unless it exists. Publisher and consumers both call it, so whichever
 * starts first makes it (file storage, limits retention: every consumer reads every event).
 */
export async function ensureEventsStream(manager: JetStreamManager): Promise<void> {
  // Loaded only by a service that uses NATS: one without it starts without the client (ADR 0013).
  const { nanos, RetentionPolicy, StorageType } = require('nats') as typeof Nats;
  try {
    await manager.streams.info(EVENTS_STREAM);
    return;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  try {
    await manager.streams.add({
      name: EVENTS_STREAM,
      subjects: [`${EVENTS_SUBJECT_PREFIX}>`],
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
