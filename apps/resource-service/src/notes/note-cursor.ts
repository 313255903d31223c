import { InvalidCursorException } from './notes.errors';

/**
 * Where a page ended: its last note's `created_at` to the microsecond, as PostgreSQL stores it,
 * and its id. Microseconds matter: a JavaScript Date keeps milliseconds only, and a cursor
 * rounded to them would skip or repeat the notes created within the same millisecond.
 */
export interface NotePosition {
  /** `YYYY-MM-DDTHH:MM:SS.ffffffZ`, from NOTE_POSITION_SQL. */
  createdAt: string;
  id: string;
}

/** `created_at` of the `note` alias as NotePosition.createdAt, whatever the session time zone. */
export const NOTE_POSITION_SQL = `to_char("note"."created_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const TIMESTAMP = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Opaque to clients, but not secret and not signed: a forged cursor is only another place to
 * start from, and the query keeps its owner filter whatever the cursor says.
 */
export function encodeNoteCursor(position: NotePosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id])).toString('base64url');
}

/** The position in a cursor from encodeNoteCursor; anything else is an InvalidCursorException. */
export function decodeNoteCursor(cursor: string): NotePosition {
  const position = positionIn(cursor);
  // Byte for byte what encodeNoteCursor makes, so no lenient decoding lets other text through.
  if (!position || encodeNoteCursor(position) !== cursor) throw new InvalidCursorException();
  return position;
}

function positionIn(cursor: string): NotePosition | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [createdAt, id]: unknown[] = value;
  if (typeof createdAt !== 'string' || !isTimestamp(createdAt)) return undefined;
  if (typeof id !== 'string' || !UUID.test(id)) return undefined;
  return { createdAt, id };
}

/** A real instant PostgreSQL accepts: no 30 February, no hour 24, no year 0. */
function isTimestamp(text: string): boolean {
  const match = TIMESTAMP.exec(text);
  if (!match || match[1] === '0000') return false;
  const milliseconds = `${text.slice(0, 23)}Z`;
  const time = Date.parse(milliseconds);
  return !Number.isNaN(time) && new Date(time).toISOString() === milliseconds;
}
