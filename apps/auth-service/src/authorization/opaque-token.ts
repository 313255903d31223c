import { createHash, randomBytes } from 'node:crypto';

/** A 256-bit secret from the CSPRNG, 43 base64url characters: a code or a page-session token. */
export function generateOpaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the database keeps of a code or page-session token: its SHA-256, never the token. */
export function hashOpaqueToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** 43 base64url characters, as generateOpaqueToken makes them; anything else is unknown at once. */
export const OPAQUE_TOKEN = /^[A-Za-z0-9_-]{43}$/;
