import { createHmac, createPublicKey } from 'node:crypto';
import type { TestIssuer } from './test-issuer';

/**
 * The black-box table: every token an attacker can forge for an R item of the security
 * checklist (docs/security-model.md), sent over real HTTP to a guarded route: a service
 * (libs/auth/resource-server's forged-tokens.spec.ts), or the gateway in front of one
 * (apps/gateway-e2e). Each must get 401 with `WWW-Authenticate: Bearer error="invalid_token"`
 * and a body that says nothing more.
 */

/** What the table runs against, known once the caller's beforeAll has run. */
export interface ForgeryTarget {
  /** The full URL of a GET route that admits any valid token of `issuer` (e.g. `…/me`). */
  url: string;
  /** The issuer the target trusts; its tokens name the target's audience. */
  issuer: TestIssuer;
  /** An issuer the target does not trust: its keys and URLs are the attacker's. */
  attacker: TestIssuer;
}

// Set from the target before the first test; the forgeries below read them when they run.
let issuer: TestIssuer;
let attacker: TestIssuer;

const encode = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/**
 * The header of a valid token from `from`, with `changes` applied (undefined removes): where a
 * forgery starts.
 */
export function forgeryHeader(
  from: TestIssuer,
  changes: Record<string, unknown> = {},
): Record<string, unknown> {
  const base = { alg: from.currentKey.alg, typ: 'at+jwt', kid: from.currentKey.kid, ...changes };
  return Object.fromEntries(Object.entries(base).filter(([, value]) => value !== undefined));
}

function header(changes: Record<string, unknown> = {}): Record<string, unknown> {
  return forgeryHeader(issuer, changes);
}

function unsigned(head: Record<string, unknown>, claims = issuer.claims()): string {
  return `${encode(head)}.${encode(claims)}`;
}

function flip(text: string): string {
  return `${text.slice(0, -2)}${text.at(-2) === 'A' ? 'B' : 'A'}${text.at(-1)}`;
}

function hmac(secret: string | Buffer, head = header({ alg: 'HS256' })): string {
  const input = unsigned(head);
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

type Forgery = [item: string, description: string, token: () => string];

const forgeries: Forgery[] = [
  // R7: the algorithm allowlist is exact; `none` in any casing is refused.
  ...['none', 'None', 'NONE', 'nOnE'].flatMap((alg): Forgery[] => [
    ['R7', `alg ${alg} without a signature`, () => `${unsigned(header({ alg }))}.`],
    ['R7', `alg ${alg} with a signature`, () => `${unsigned(header({ alg }))}.c2lnbmF0dXJl`],
  ]),
  ['R7', 'no alg at all', () => issuer.sign(header({ alg: undefined }), issuer.claims())],
  [
    'R7',
    'alg ES384 (not allowlisted)',
    () => issuer.sign(header({ alg: 'ES384' }), issuer.claims()),
  ],
  [
    'R7',
    'alg PS256 (not allowlisted)',
    () => issuer.sign(header({ alg: 'PS256' }), issuer.claims()),
  ],
  [
    'R7',
    "alg RS256 on the issuer's EC key",
    () => issuer.sign(header({ alg: 'RS256' }), issuer.claims()),
  ],
  // R8: HMAC with the public key as the secret, in every encoding a verifier might use.
  ['R8', 'HS256 keyed with the public key as PEM', () => hmac(pem())],
  ['R8', 'HS256 keyed with the public key as JWK JSON', () => hmac(JSON.stringify(publicJwk()))],
  ['R8', 'HS256 keyed with the public key as DER', () => hmac(der())],
  ['R8', 'HS256 keyed with the JWKS document', () => hmac(JSON.stringify(issuer.jwks()))],
  ['R8', 'HS512 keyed with the public key as PEM', () => hmac(pem(), header({ alg: 'HS512' }))],
  // R9: signatures stripped, empty, foreign or altered.
  ['R9', 'the signature stripped', () => `${unsigned(header())}.`],
  ['R9', 'the signature and its dot stripped', () => unsigned(header())],
  ['R9', 'a signature of one character', () => `${unsigned(header())}.A`],
  [
    'R9',
    'a signature by another key under our kid',
    () => attacker.sign(header(), issuer.claims()),
  ],
  ['R9', 'the last signature character changed', () => flip(issuer.accessToken())],
  ['R9', 'the signature of another token', () => swapSignature()],
  ['R9', 'the payload changed after signing (roles: admin)', () => promoted()],
  // R10: keys carried by the token are never used, and never fetched.
  ['R10', 'a jwk header with the attacker key', () => attackerSigned({ jwk: attackerJwk() })],
  ['R10', 'a jku header to the attacker JWKS', () => attackerSigned({ jku: attacker.jwksUri })],
  [
    'R10',
    'an x5u header to the attacker',
    () => attackerSigned({ x5u: `${attacker.issuer}/cert.pem` }),
  ],
  [
    'R10',
    'an x5c header with garbage',
    () => attackerSigned({ x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOC'] }),
  ],
  [
    'R10',
    'jwk and jku headers under our kid',
    () => attacker.sign(header({ jwk: attackerJwk(), jku: attacker.jwksUri }), issuer.claims()),
  ],
  // R11: odd kid values.
  ...(
    [
      ['an unknown kid', 'no-such-key'],
      ['a path as kid', '../../../etc/passwd'],
      ['SQL as kid', "' OR '1'='1' --"],
      ['a huge kid', 'k'.repeat(4000)],
      ['an empty kid', ''],
      ['a numeric kid', 42],
      ['a null kid', null],
      ['an object kid', { $ne: null }],
      ['an array kid', [issuerKid()]],
    ] as [string, unknown][]
  ).map(
    ([description, kid]): Forgery => [
      'R11',
      description,
      () =>
        issuer.sign(
          header({ kid: kid === issuerKid() ? issuer.currentKey.kid : kid }),
          issuer.claims(),
        ),
    ],
  ),
  ['R11', 'no kid', () => issuer.sign(header({ kid: undefined }), issuer.claims())],
  // R13: a critical extension nobody understands.
  ['R13', 'crit ["exp"]', () => issuer.sign(header({ crit: ['exp'] }), issuer.claims())],
  [
    'R13',
    'crit ["x-custom"] with the member',
    () => issuer.sign(header({ crit: ['x-custom'], 'x-custom': 1 }), issuer.claims()),
  ],
  ['R13', 'an empty crit', () => issuer.sign(header({ crit: [] }), issuer.claims())],
  // R14: typ must be at+jwt.
  ...[['JWT'], ['jwt'], ['application/jwt'], ['at+jwt+x'], ['at+JWT '], [''], [1]].map(
    ([typ]): Forgery => [
      'R14',
      `typ ${JSON.stringify(typ)}`,
      () => issuer.sign(header({ typ }), issuer.claims()),
    ],
  ),
  ['R14', 'no typ', () => issuer.sign(header({ typ: undefined }), issuer.claims())],
  // R15: the issuer, byte for byte.
  ...[
    ['a trailing slash', () => `${issuer.issuer}/`],
    ['upper case', () => issuer.issuer.toUpperCase()],
    ['another host', () => 'http://evil.example'],
    ['a leading space', () => ` ${issuer.issuer}`],
    ['a list', () => [issuer.issuer]],
    ['nothing', () => undefined],
  ].map(
    ([description, iss]): Forgery => [
      'R15',
      `iss with ${description as string}`,
      () => issuer.accessToken({ iss: (iss as () => unknown)() }),
    ],
  ),
  // R16: this service must be in aud.
  ['R16', 'a token for another service', () => issuer.accessToken({ aud: ['billing-service'] })],
  ['R16', 'aud as a plain other string', () => issuer.accessToken({ aud: 'billing-service' })],
  ['R16', 'aud missing', () => issuer.accessToken({ aud: undefined })],
  ['R16', 'aud empty', () => issuer.accessToken({ aud: [] })],
  ['R16', 'aud with a prefix of ours', () => issuer.accessToken({ aud: ['guarded'] })],
  ['R16', 'aud as a number', () => issuer.accessToken({ aud: 7 })],
  // R17: exp is required and enforced, with 30 s leeway.
  ['R17', 'expired past the leeway', () => issuer.accessToken({}, { expiresIn: -31 })],
  ['R17', 'expired long ago', () => issuer.accessToken({}, { expiresIn: -86_400 })],
  ['R17', 'no exp', () => issuer.accessToken({ exp: undefined })],
  ['R17', 'exp as a string', () => issuer.accessToken({ exp: String(now() + 300) })],
  // R18: nbf in the future.
  ['R18', 'nbf two minutes ahead', () => issuer.accessToken({ nbf: now() + 120 })],
  ['R18', 'nbf as a string', () => issuer.accessToken({ nbf: String(now()) })],
  // R19: the other required claims, with the right types.
  ...['sub', 'client_id', 'iat', 'jti'].map(
    (claim): Forgery => ['R19', `no ${claim}`, () => issuer.accessToken({ [claim]: undefined })],
  ),
  ['R19', 'sub empty', () => issuer.accessToken({ sub: '' })],
  ['R19', 'sub a number', () => issuer.accessToken({ sub: 12 })],
  ['R19', 'iat a string', () => issuer.accessToken({ iat: String(now()) })],
  ['R19', 'client_id a list', () => issuer.accessToken({ client_id: ['a'] })],
  ['R19', 'roles a string', () => issuer.accessToken({ roles: 'admin' })],
  ['R19', 'scope a list', () => issuer.accessToken({ scope: ['notes:read'] })],
  // R20: only the strict compact form.
  ...[
    ['an empty string', ''],
    ['one segment', 'abc'],
    ['two segments', 'a.b'],
    ['four segments', 'a.b.c.d'],
    ['padding', 'e30=.e30.e30'],
    ['base64 (not url) characters', 'e30+.e30/.e30'],
    ['empty segments', '..'],
  ].map(([description, token]): Forgery => ['R20', description, () => token]),
  [
    'R20',
    'a header that is not JSON',
    () => `${encode('{not json')}.${encode(issuer.claims())}.c2ln`,
  ],
  ['R20', 'a header that is a JSON array', () => `${encode([1])}.${encode(issuer.claims())}.c2ln`],
  ['R20', 'a header that is JSON null', () => `${encode('null')}.${encode(issuer.claims())}.c2ln`],
  ['R20', 'a signed payload that is not JSON', () => issuer.sign(header(), '{"sub":')],
  ['R20', 'a signed payload that is a JSON array', () => issuer.sign(header(), '[1,2]')],
  ['R20', 'a signed payload that is a JSON string', () => issuer.sign(header(), '"sub"')],
  ['R20', 'a JWE (five segments)', () => `${encode({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.a.b.c.d`],
  [
    'R20',
    'a JSON-serialised JWS',
    () => JSON.stringify({ payload: encode(issuer.claims()), signature: 'x' }),
  ],
  // R22: oversized tokens are refused before any parsing.
  [
    'R22',
    'a token of 9000 characters',
    () => `${unsigned(header(), issuer.claims({ pad: 'x'.repeat(9000) }))}.c2ln`,
  ],
  [
    'R22',
    'a properly signed token of 9000 characters',
    () => issuer.accessToken({ pad: 'x'.repeat(9000) }),
  ],
  // R23: other kinds of token.
  ['R23', 'an opaque refresh token', () => 'Yq3kR2mN8xVb4TzL0cWp7sHj5dFa9eUi1oGt6yQwErA'],
  [
    'R23',
    'an ID token (typ JWT)',
    () =>
      issuer.sign(
        header({ typ: 'JWT' }),
        issuer.claims({ auth_time: now(), email: 'a@example.com' }),
      ),
  ],
  [
    'R23',
    'an ID token without typ',
    () => issuer.sign(header({ typ: undefined }), issuer.claims({ nonce: 'n' })),
  ],
];

function now(): number {
  return Math.floor(Date.now() / 1000);
}
function issuerKid(): string {
  return 'the-issuer-kid';
}
function pem(): string {
  return issuer.currentKey.publicKey.export({ format: 'pem', type: 'spki' }).toString();
}
function der(): Buffer {
  return issuer.currentKey.publicKey.export({ format: 'der', type: 'spki' });
}
function publicJwk() {
  return createPublicKey(issuer.currentKey.privateKey).export({ format: 'jwk' });
}
function attackerJwk() {
  return attacker.currentKey.publicKey.export({ format: 'jwk' });
}
function attackerSigned(extra: Record<string, unknown>): string {
  return attacker.sign(header({ kid: attacker.currentKey.kid, ...extra }), issuer.claims());
}
function swapSignature(): string {
  const [head, payload] = issuer.accessToken().split('.');
  return `${head}.${payload}.${issuer.accessToken().split('.')[2]}`;
}
function promoted(): string {
  const [head, , signature] = issuer.accessToken().split('.');
  return `${head}.${encode(issuer.claims({ roles: ['admin'] }))}.${signature}`;
}

/**
 * Registers the table as one `describe`: the valid token every forgery starts from is accepted,
 * each forgery is refused with 401 `invalid_token` and the house error body, and nothing was
 * ever fetched from the attacker (R10). `target` is called in the suite's beforeAll.
 *
 * @example
 * ```ts
 * beforeAll(async () => { issuer = …; attacker = …; url = … });
 * describeForgedTokens('a service guarded by @tessera/auth', () => ({ url: `${url}/me`, issuer, attacker }));
 * ```
 */
export function describeForgedTokens(title: string, target: () => ForgeryTarget): void {
  describe(title, () => {
    let url: string;
    beforeAll(() => {
      ({ url, issuer, attacker } = target());
    });

    it('accepts the valid token every forgery below starts from', async () => {
      expect((await get(url, issuer.accessToken({ sub: 'ada' }))).status).toBe(200);
    });

    it.each(forgeries)(
      '%s: refuses %s with 401 invalid_token and says nothing more',
      async (_item, _description, forge) => {
        const answer = await get(url, forge());
        expect(answer.status).toBe(401);
        expect(answer.challenge).toBe('Bearer error="invalid_token"');
        expect(answer.body).toEqual({
          statusCode: 401,
          error: 'Unauthorized',
          message: 'The access token is invalid or expired',
          requestId: expect.any(String),
        });
      },
    );

    it('R10: never fetched anything from the attacker, whatever the headers named', () => {
      expect(attacker.requests).toBe(0);
    });
  });
}

async function get(url: string, token: string) {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}
