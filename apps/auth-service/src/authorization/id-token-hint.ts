import { verify } from 'node:crypto';
import type { VerificationKey } from '@tessera/auth-token';

/** What RP-initiated logout reads from an `id_token_hint`. */
export interface IdTokenHint {
  subject: string;
  clientId: string;
  sessionId?: string;
}

/**
 * An ID token this server issued, read as a logout hint (RP-Initiated Logout 1.0 §2): signature,
 * `typ: JWT`, `iss` and a string `aud` are checked; expiry is not, since a hint may have expired
 * and still say who signs out. Undefined for anything else.
 */
export async function readIdTokenHint(
  token: string,
  issuer: string,
  keyOf: (kid: string) => Promise<VerificationKey | undefined>,
): Promise<IdTokenHint | undefined> {
  const parts = token.split('.');
  if (parts.length !== 3 || token.length > 8192) return undefined;
  const [header, payload, signature] = parts as [string, string, string];
  try {
    const protectedHeader = JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    if (protectedHeader['typ'] !== 'JWT' || typeof protectedHeader['kid'] !== 'string')
      return undefined;
    const key = await keyOf(protectedHeader['kid']);
    if (!key || protectedHeader['alg'] !== key.alg) return undefined;
    const valid = verify(
      'sha256',
      Buffer.from(`${header}.${payload}`),
      { key: key.key, dsaEncoding: 'ieee-p1363' },
      Buffer.from(signature, 'base64url'),
    );
    if (!valid) return undefined;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    if (
      claims['iss'] !== issuer ||
      typeof claims['sub'] !== 'string' ||
      typeof claims['aud'] !== 'string'
    ) {
      return undefined;
    }
    return {
      subject: claims['sub'],
      clientId: claims['aud'],
      ...(typeof claims['sid'] === 'string' && { sessionId: claims['sid'] }),
    };
  } catch {
    return undefined;
  }
}
