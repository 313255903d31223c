import { registerAs } from '@nestjs/config';
import {
  CommaSeparated,
  HttpsInProduction,
  ServiceEnvironment,
  validateEnvironment,
} from '@tessera/platform';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsUrl,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateIf,
} from 'class-validator';

const DAY = 24 * 60 * 60;

/**
 * OWASP Password Storage Cheat Sheet, argon2id (checklist I11): 19 MiB and 2 passes, one lane. The
 * password hash's default cost, and its floor but with NODE_ENV=test.
 */
export const OWASP_ARGON2ID_MINIMUM = { memoryKib: 19456, passes: 2 } as const;

/** A floor that only NODE_ENV=test may go below (the password hash's cost). */
function AtLeastOutsideTests(minimum: number, what: string): PropertyDecorator {
  return ValidateBy({
    name: 'atLeastOutsideTests',
    validator: {
      validate: (value: unknown, args) =>
        (args?.object as AuthServiceEnvironment | undefined)?.NODE_ENV === 'test' ||
        (typeof value === 'number' && value >= minimum),
      defaultMessage: () => `must be at least ${minimum} (${what}); lower only with NODE_ENV=test`,
    },
  });
}

/**
 * Every auth-service instance re-reads the signing keys this often (KeysService), so a key another
 * instance published reaches this one's JWKS within it. Below the 60 s a retired key stays
 * published beyond its tokens, so an instance late to switch still signs with a published key.
 */
export const SIGNING_KEYS_RELOAD_SECONDS = 30;
const seconds = (min: number, max: number) =>
  `must be a whole number of seconds from ${min} to ${max}`;

/** Every variable auth-service reads; `.env.example` documents each one. */
export class AuthServiceEnvironment extends ServiceEnvironment {
  override PORT = 3001;

  /**
   * The `iss` of every token and the `issuer` of the metadata, byte for byte: the public base URL
   * of this service, without a trailing slash. With NODE_ENV=production it must be https (but
   * for a loopback host: localhost, 127.0.0.1, [::1]).
   */
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['http', 'https'] },
    { message: 'must be the public base URL of auth-service, e.g. https://auth.example.com' },
  )
  @Matches(/[^/]$/, { message: 'must not end with a slash' })
  @HttpsInProduction()
  ISSUER = 'http://127.0.0.1:3001';

  /**
   * Access-token lifetime. Keep it short (RFC 9700); values under a minute are for tests and
   * demonstrations that watch a token expire.
   */
  @Type(() => Number)
  @IsInt({ message: seconds(5, 3600) })
  @Min(5, { message: seconds(5, 3600) })
  @Max(3600, { message: seconds(5, 3600) })
  ACCESS_TOKEN_TTL = 15 * 60;

  /** A session ends when its refresh token is not used for this long. */
  @Type(() => Number)
  @IsInt({ message: seconds(300, 90 * DAY) })
  @Min(300, { message: seconds(300, 90 * DAY) })
  @Max(90 * DAY, { message: seconds(300, 90 * DAY) })
  SESSION_IDLE_TTL = 14 * DAY;

  /** A session ends this long after login, however often it is refreshed. */
  @Type(() => Number)
  @IsInt({ message: seconds(300, 365 * DAY) })
  @Min(300, { message: seconds(300, 365 * DAY) })
  @Max(365 * DAY, { message: seconds(300, 365 * DAY) })
  SESSION_ABSOLUTE_TTL = 30 * DAY;

  /**
   * A spent refresh token presented again within this many seconds gets the same successor
   * (a lost response, two tabs) instead of revoking the session. 0 turns the grace off.
   */
  @Type(() => Number)
  @IsInt({ message: seconds(0, 60) })
  @Min(0, { message: seconds(0, 60) })
  @Max(60, { message: seconds(0, 60) })
  REFRESH_REUSE_GRACE = 10;

  /**
   * Live sessions one user may hold. At the cap, a new sign-in ends the user's session unused the
   * longest (announced like any revocation), so the owner is never refused and a stolen password
   * cannot pile up sessions without bound.
   */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number from 1 to 1000' })
  @Min(1, { message: 'must be a whole number from 1 to 1000' })
  @Max(1000, { message: 'must be a whole number from 1 to 1000' })
  MAX_SESSIONS_PER_USER = 50;

  @IsIn(['ES256', 'RS256'], { message: 'must be ES256 or RS256' })
  SIGNING_ALGORITHM: 'ES256' | 'RS256' = 'ES256';

  /**
   * What users' access tokens are outside: `jwt` (default), or `reference`: an opaque token that
   * only the gateway can swap for the JWT it stands for (phantom tokens, docs/adr/0012). Service
   * tokens (client credentials) stay JWTs: they never leave the system.
   */
  @IsIn(['jwt', 'reference'], { message: 'must be jwt or reference' })
  ACCESS_TOKEN_FORMAT: 'jwt' | 'reference' = 'jwt';

  /**
   * argon2id's memory, in KiB, for new password hashes. The default is OWASP's minimum (19 MiB,
   * with 2 passes: checklist I11), and nothing lower is accepted but with NODE_ENV=test, whose
   * runs sign up thousands of users: raise it, never lower it. A stored hash made with other
   * parameters is hashed again at its user's next sign-in.
   */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number of KiB from 1024 to 4194304' })
  @Min(1024, { message: 'must be a whole number of KiB from 1024 to 4194304' })
  @Max(4194304, { message: 'must be a whole number of KiB from 1024 to 4194304' })
  @AtLeastOutsideTests(OWASP_ARGON2ID_MINIMUM.memoryKib, "OWASP's minimum, 19 MiB")
  PASSWORD_HASH_MEMORY_KIB: number = OWASP_ARGON2ID_MINIMUM.memoryKib;

  /** argon2id's passes for new password hashes; as for PASSWORD_HASH_MEMORY_KIB, at least 2. */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number of passes from 1 to 20' })
  @Min(1, { message: 'must be a whole number of passes from 1 to 20' })
  @Max(20, { message: 'must be a whole number of passes from 1 to 20' })
  @AtLeastOutsideTests(OWASP_ARGON2ID_MINIMUM.passes, "OWASP's minimum with 19 MiB")
  PASSWORD_HASH_PASSES: number = OWASP_ARGON2ID_MINIMUM.passes;

  /**
   * 32 random bytes, base64 or base64url, that encrypt the signing keys at rest. Required in
   * production; in development the service generates one under DATA_DIR and says so.
   */
  @ValidateIf(
    (environment: AuthServiceEnvironment) =>
      environment.NODE_ENV === 'production' || environment.KEY_ENCRYPTION_KEY !== undefined,
  )
  @IsDefined({
    message: 'is required when NODE_ENV=production; generate one with: openssl rand -base64 32',
  })
  @Matches(/^[A-Za-z0-9+/_-]{43}=?$/, {
    message: 'must be 32 random bytes in base64 (openssl rand -base64 32)',
  })
  KEY_ENCRYPTION_KEY?: string;

  /**
   * How long a new signing key is published in the JWKS before it signs, so every resource
   * service has fetched it first: the other auth-service instances learn of it within
   * SIGNING_KEYS_RELOAD_SECONDS, and each resource service's copy of the JWKS is at most
   * JWKS_MAX_AGE old (its JWKS client keeps a copy no longer than the response's max-age, and
   * refetches no less often: docs/deploying.md). Must exceed JWKS_MAX_AGE + 30.
   */
  @Type(() => Number)
  @IsInt({ message: seconds(0, DAY) })
  @Min(0, { message: seconds(0, DAY) })
  @Max(DAY, { message: seconds(0, DAY) })
  @ValidateBy({
    name: 'exceedsKeyPropagation',
    validator: {
      // Otherwise a service that fetched the JWKS from an instance that had not yet re-read the
      // keys would refuse the new key's first tokens until its copy expires.
      validate: (delay: unknown, args) => {
        const jwksMaxAge = (args?.object as AuthServiceEnvironment | undefined)?.JWKS_MAX_AGE ?? 0;
        return typeof delay === 'number' && delay > jwksMaxAge + SIGNING_KEYS_RELOAD_SECONDS;
      },
      defaultMessage: () =>
        `must be greater than JWKS_MAX_AGE + ${SIGNING_KEYS_RELOAD_SECONDS} (every auth-service ` +
        `instance re-reads the keys every ${SIGNING_KEYS_RELOAD_SECONDS} s, then services keep ` +
        'the JWKS for JWKS_MAX_AGE), so every service has the new key before it signs',
    },
  })
  SIGNING_KEY_ACTIVATION_DELAY = 600;

  /**
   * `Cache-Control: max-age` of the JWKS: the longest a resource service keeps its copy (its JWKS
   * client follows it), so the time a new key needs to reach every service, and how long a
   * removed key may still verify there.
   */
  @Type(() => Number)
  @IsInt({ message: seconds(0, 3600) })
  @Min(0, { message: seconds(0, 3600) })
  @Max(3600, { message: seconds(0, 3600) })
  JWKS_MAX_AGE = 300;

  /**
   * Failed logins per account within an hour beyond which addresses that never signed in to it
   * share one slow lane (docs/security-model.md, "Login throttling"). Slows; never locks.
   */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number from 1 to 100' })
  @Min(1, { message: 'must be a whole number from 1 to 100' })
  @Max(100, { message: 'must be a whole number from 1 to 100' })
  LOGIN_ACCOUNT_FAILURE_LIMIT = 50;

  /** Failed logins per (account, address) pair within LOGIN_THROTTLE_WINDOW before delays grow. */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number from 1 to 100' })
  @Min(1, { message: 'must be a whole number from 1 to 100' })
  @Max(100, { message: 'must be a whole number from 1 to 100' })
  LOGIN_PAIR_FAILURE_LIMIT = 5;

  /** Failed logins per client address (an IPv6 /64 counts as one) within LOGIN_THROTTLE_WINDOW. */

  @Type(() => Number)
  @IsInt({ message: 'must be a whole number from 1 to 10000' })
  @Min(1, { message: 'must be a whole number from 1 to 10000' })
  @Max(10000, { message: 'must be a whole number from 1 to 10000' })
  LOGIN_ADDRESS_FAILURE_LIMIT = 50;

  /** The window of the pair and address limits, and the longest delay the pair limit imposes. */
  @Type(() => Number)
  @IsInt({ message: seconds(60, 3600) })
  @Min(60, { message: seconds(60, 3600) })
  @Max(3600, { message: seconds(60, 3600) })
  LOGIN_THROTTLE_WINDOW = 15 * 60;

  /**
   * Registrations per client address (an IPv6 /64 counts as one) per hour, whatever their outcome:
   * each one costs an argon2 hash (docs/security-model.md, "Registration throttling").
   */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number from 1 to 10000' })
  @Min(1, { message: 'must be a whole number from 1 to 10000' })
  @Max(10000, { message: 'must be a whole number from 1 to 10000' })
  REGISTRATION_ADDRESS_LIMIT = 20;

  /**
   * Passwordless passkey sign-ins started (WebAuthn options, each a stored challenge) per client
   * address (an IPv6 /64 counts as one) within LOGIN_THROTTLE_WINDOW (docs/second-factors.md).
   */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number from 1 to 10000' })
  @Min(1, { message: 'must be a whole number from 1 to 10000' })
  @Max(10000, { message: 'must be a whole number from 1 to 10000' })
  PASSKEY_OPTIONS_ADDRESS_LIMIT = 30;

  /**
   * Audit rows per minute per (event type, client address) for the events a stranger can cause
   * (failed logins and client authentications, throttling, denied introspection); the rest of
   * that minute are counted in one `audit.suppressed` row.
   */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number from 1 to 1000' })
  @Min(1, { message: 'must be a whole number from 1 to 1000' })
  @Max(1000, { message: 'must be a whole number from 1 to 1000' })
  AUDIT_UNAUTHENTICATED_LIMIT = 10;

  /** Days an audit row is kept before the pruning job removes it; never fewer than 30. */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number of days from 30 to 3650' })
  @Min(30, { message: 'must be a whole number of days from 30 to 3650' })
  @Max(3650, { message: 'must be a whole number of days from 30 to 3650' })
  AUDIT_RETENTION = 365;

  /**
   * Lifetime of client-credentials (service) tokens. Short: a service asks again for free, and
   * nothing can revoke its token before it expires.
   */
  @Type(() => Number)
  @IsInt({ message: seconds(5, 3600) })
  @Min(5, { message: seconds(5, 3600) })
  @Max(3600, { message: seconds(5, 3600) })
  SERVICE_TOKEN_TTL = 5 * 60;

  /**
   * Secrets of confidential clients, set (as hashes) at start-up: `resource-service=<secret>`,
   * comma-separated. It gives a deployment's services their secrets in one place; the `clients`
   * command does the same by hand. Each secret is at least 32 base64url characters.
   */
  @CommaSeparated()
  @Matches(/^[a-z][a-z0-9._-]{1,63}=[A-Za-z0-9_-]{32,256}$/, {
    each: true,
    message:
      'must be comma-separated client-id=secret pairs, each secret 32+ base64url characters (openssl rand -base64 32 | tr "+/" "-_" | tr -d =)',
  })
  CLIENT_SECRETS: string[] = [];

  /**
   * Wrong second factors (TOTP codes, recovery codes, passkey assertions) per user within
   * MFA_LOCKOUT_SECONDS, past which every second-factor check of the user is refused (429) until
   * the oldest leaves the window. Only someone who knew the password can cause them.
   */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number from 1 to 100' })
  @Min(1, { message: 'must be a whole number from 1 to 100' })
  @Max(100, { message: 'must be a whole number from 1 to 100' })
  MFA_FAILURE_LIMIT = 5;

  /** The window of MFA_FAILURE_LIMIT, and so the longest a lock-out lasts. */
  @Type(() => Number)
  @IsInt({ message: seconds(60, DAY) })
  @Min(60, { message: seconds(60, DAY) })
  @Max(DAY, { message: seconds(60, DAY) })
  MFA_LOCKOUT_SECONDS = 15 * 60;

  /**
   * The name authenticator apps show beside a TOTP code, and passkey prompts beside a passkey
   * (the WebAuthn relying party's name).
   */
  @Matches(/^[^:\p{Cc}]{1,64}$/u, { message: 'must be 1 to 64 characters, without a colon' })
  MFA_ISSUER_NAME = 'Tessera';

  /**
   * The WebAuthn relying-party id passkeys are bound to: the host name of the sign-in pages, or a
   * parent domain of it. Defaults to ISSUER's host name. Changing it orphans every passkey.
   */
  @ValidateIf((environment: AuthServiceEnvironment) => !!environment.WEBAUTHN_RP_ID)
  @Matches(/^[a-z0-9.-]{1,253}$/, { message: 'must be a host name, e.g. example.com' })
  WEBAUTHN_RP_ID?: string;

  /**
   * The origins a passkey ceremony may come from, comma-separated. Defaults to ISSUER's origin.
   */
  @CommaSeparated()
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['http', 'https'] },
    { each: true, message: 'must be comma-separated origins, e.g. https://auth.example.com' },
  )
  WEBAUTHN_ORIGINS: string[] = [];

  /** Browser clients: the refresh token travels in an HttpOnly cookie instead of the body. */
  @Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  )
  @IsBoolean({ message: 'must be true or false' })
  REFRESH_TOKEN_COOKIE = false;

  /**
   * A NATS server with JetStream, e.g. `nats://nats:4222` (comma-separated for a cluster). Set:
   * the domain events (docs/events.md) are published to the stream TESSERA_EVENTS. Unset: none
   * are, and resource services follow revocations over GET /revocations.
   */
  @ValidateIf((environment: AuthServiceEnvironment) => environment.NATS_URL !== undefined)
  @Matches(/^(nats|tls):\/\/[^\s,]+(,(nats|tls):\/\/[^\s,]+)*$/, {
    message: 'must be nats:// URLs separated by commas, e.g. nats://nats:4222',
  })
  NATS_URL?: string;

  /**
   * Where the links in account mail lead (docs/account-lifecycle.md): `<PUBLIC_URL>/account/
   * verify-email?token=…`, `/account/reset-password?token=…`, `/account/undo-email-change?token=…`.
   * Unset: ISSUER. Never taken from a request's Host header.
   */
  @ValidateIf((environment: AuthServiceEnvironment) => environment.PUBLIC_URL !== undefined)
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['http', 'https'] },
    { message: 'must be the public base URL of the account pages, e.g. https://app.example.com' },
  )
  @Matches(/[^/]$/, { message: 'must not end with a slash' })
  @HttpsInProduction()
  PUBLIC_URL?: string;

  /**
   * The mail server, `smtp://user:password@host:587` (STARTTLS when offered) or `smtps://…:465`.
   * Unset: mail waits in the outbox until it is set. `npm start` points it at its development
   * catcher, docker-compose at Mailpit.
   */
  @ValidateIf((environment: AuthServiceEnvironment) => environment.SMTP_URL !== undefined)
  @Matches(/^smtps?:\/\/[^\s]+$/, { message: 'must be an smtp:// or smtps:// URL' })
  SMTP_URL?: string;

  /** The From of account mail. */
  @Matches(/^[^\r\n]{3,320}$/, {
    message: 'must be an address, e.g. Tessera <no-reply@example.com>',
  })
  MAIL_FROM = 'Tessera <no-reply@tessera.localhost>';

  /**
   * Whether an account whose address is not verified may sign in. true: it may, and its tokens say
   * `email_verified: false`; false: sign-in answers 403 `email_not_verified` until it is.
   */
  @Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  )
  @IsBoolean({ message: 'must be true or false' })
  UNVERIFIED_SIGN_IN = true;

  /** Lifetime of a verification link and code. */
  @Type(() => Number)
  @IsInt({ message: seconds(300, 7 * DAY) })
  @Min(300, { message: seconds(300, 7 * DAY) })
  @Max(7 * DAY, { message: seconds(300, 7 * DAY) })
  EMAIL_VERIFICATION_TTL = DAY;

  /** Lifetime of a password-reset link (M5: short). */
  @Type(() => Number)
  @IsInt({ message: seconds(300, DAY) })
  @Min(300, { message: seconds(300, DAY) })
  @Max(DAY, { message: seconds(300, DAY) })
  PASSWORD_RESET_TTL = 30 * 60;

  /** How long the old address can undo an email change. */
  @Type(() => Number)
  @IsInt({ message: seconds(3600, 30 * DAY) })
  @Min(3600, { message: seconds(3600, 30 * DAY) })
  @Max(30 * DAY, { message: seconds(3600, 30 * DAY) })
  EMAIL_CHANGE_UNDO_TTL = 7 * DAY;

  /**
   * Account mails (verification, reset, email change) asked for per address per hour; past it
   * the request gets the same answer and no mail is sent, so nobody can flood an inbox.
   */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number from 1 to 100' })
  @Min(1, { message: 'must be a whole number from 1 to 100' })
  @Max(100, { message: 'must be a whole number from 1 to 100' })
  ACCOUNT_MAIL_ACCOUNT_LIMIT = 5;

  /**
   * Account-mail requests per client address (an IPv6 /64 counts as one) per hour; past it
   * 429 with Retry-After.
   */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number from 1 to 10000' })
  @Min(1, { message: 'must be a whole number from 1 to 10000' })
  @Max(10000, { message: 'must be a whole number from 1 to 10000' })
  ACCOUNT_MAIL_ADDRESS_LIMIT = 30;
}

/** The only place auth-service reads process.env. */
export const authServiceConfig = registerAs('auth-service', () =>
  validateEnvironment(AuthServiceEnvironment, process.env),
);

/** Read only when the service runs its own embedded PostgreSQL (DATABASE_URL unset). */
export const DEVELOPMENT_ONLY_VARIABLES = ['DATA_DIR'];
