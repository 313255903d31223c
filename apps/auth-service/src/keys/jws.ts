import { sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { SigningAlgorithm } from './signing-algorithm';

/** What signs a JWT: the active key as KeysService holds it (its KeyObject made once per key). */
export interface JwsKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: KeyObject;
}

/** Node's digest for each algorithm; ES256 signatures are r ‖ s (RFC 7518 §3.4), not DER. */
const DIGEST: Record<SigningAlgorithm, 'sha256'> = { ES256: 'sha256', RS256: 'sha256' };

/** Encoded protected headers by key and `typ`: a handful of strings, one per key and token kind. */
const headers = new WeakMap<KeyObject, Map<string, string>>();

/**
 * A compact JWS (RFC 7515 §7.1) over `payload`, with the protected header `{alg, typ, kid}`:
 * one `crypto.sign` on the KeyObject, the header encoded once per key. What jsonwebtoken did
 * here before, without its option parsing, claim re-validation and stream plumbing, which cost
 * more than the signature itself (docs/performance.md, "The token endpoint"). The claims are the
 * caller's: they are signed as given. The signature is computed on libuv's thread pool, off the
 * event loop (as node-oidc-provider's, through WebCrypto): the loop goes on parsing and answering
 * other requests meanwhile, and a machine with more than one core signs in parallel.
 */
export async function signJwt(payload: object, key: JwsKey, typ: string): Promise<string> {
  let byType = headers.get(key.privateKey);
  if (!byType) headers.set(key.privateKey, (byType = new Map()));
  let header = byType.get(typ);
  if (header === undefined) {
    header = Buffer.from(JSON.stringify({ alg: key.alg, typ, kid: key.kid })).toString('base64url');
    byType.set(typ, header);
  }
  const signingInput = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const signature = await new Promise<Buffer>((resolve, reject) =>
    sign(
      DIGEST[key.alg],
      Buffer.from(signingInput),
      { key: key.privateKey, dsaEncoding: 'ieee-p1363' },
      (error, result) => (error ? reject(error) : resolve(result)),
    ),
  );
  return `${signingInput}.${signature.toString('base64url')}`;
}
