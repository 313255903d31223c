import { createHash, generateKeyPair } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { SigningAlgorithm } from './signing-algorithm';

const generate = promisify(generateKeyPair);

/** The public members of an EC P-256 or RSA key, as KeyObject.export({ format: 'jwk' }) gives. */
export type PublicJwk =
  | { kty: 'EC'; crv: 'P-256'; x: string; y: string }
  | { kty: 'RSA'; n: string; e: string };

export interface SigningKeyPair {
  kid: string;
  publicJwk: PublicJwk;
  privateKey: KeyObject;
}

/** RSA keys below this size are refused by the JWT BCP (RFC 8725) and by many verifiers. */
const RSA_MODULUS_BITS = 2048;

/** A fresh key pair for `algorithm`, its kid being the RFC 7638 thumbprint of the public key. */
export async function generateSigningKeyPair(algorithm: SigningAlgorithm): Promise<SigningKeyPair> {
  // Async so an RSA key (tens of milliseconds) does not block the event loop.
  const { publicKey, privateKey } =
    algorithm === 'ES256'
      ? await generate('ec', { namedCurve: 'prime256v1' })
      : await generate('rsa', { modulusLength: RSA_MODULUS_BITS });
  const publicJwk = publicMembers(publicKey.export({ format: 'jwk' }));
  return { kid: jwkThumbprint(publicJwk), publicJwk, privateKey };
}

/**
 * Keeps only the public members of a JWK, by name: whatever else the input holds (a private `d`,
 * RSA primes) cannot reach the database or the JWKS.
 */
export function publicMembers(jwk: Record<string, unknown>): PublicJwk {
  if (jwk['kty'] === 'EC' && jwk['crv'] === 'P-256') {
    return { kty: 'EC', crv: 'P-256', x: text(jwk['x']), y: text(jwk['y']) };
  }
  if (jwk['kty'] === 'RSA') return { kty: 'RSA', n: text(jwk['n']), e: text(jwk['e']) };
  throw new Error('Only EC P-256 and RSA signing keys are supported');
}

/** RFC 7638: SHA-256 of the required members in lexicographic order, base64url. */
export function jwkThumbprint(jwk: PublicJwk): string {
  const canonical =
    jwk.kty === 'EC'
      ? JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
      : JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return createHash('sha256').update(canonical).digest('base64url');
}

function text(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new Error('Malformed JWK member');
  return value;
}
