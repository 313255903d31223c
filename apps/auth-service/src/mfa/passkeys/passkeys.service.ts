import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { Clock } from '@tessera/auth-token';
import type * as SimpleWebAuthn from '@simplewebauthn/server';
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransport,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { LessThan, Repository } from 'typeorm';
import { authServiceConfig } from '../../config/auth-service.config';
import { Passkey } from './passkey.entity';
import { WebAuthnChallenge } from './webauthn-challenge.entity';

export type PasskeyAssertion = AuthenticationResponseJSON;
export type PasskeyAttestation = RegistrationResponseJSON;

/**
 * @simplewebauthn/server, required on the first passkey ceremony instead of at start: its about
 * 300 files were a tenth of auth-service's start-up CPU (docs/performance.md, "Start-up and
 * memory"). Node caches the module after the first call.
 */
function webAuthn(): typeof SimpleWebAuthn {
  return require('@simplewebauthn/server') as typeof SimpleWebAuthn;
}

/** Seconds a WebAuthn challenge can be answered in (the browser's own timeout is the same). */
export const WEBAUTHN_CHALLENGE_TTL = 120;
/** A user's passkeys, at most: enough for every device, not a table anyone can fill. */
export const MAX_PASSKEYS_PER_USER = 20;
/**
 * Live challenges kept per user (a second factor's or a registration's), and for passwordless
 * sign-ins, where nobody is known yet, in all: storing one past the bound drops the oldest. The
 * passwordless ones are throttled per address first (PASSKEY_OPTIONS_ADDRESS_LIMIT); the bound
 * holds the table's size even against many addresses, at worst costing an unanswered old
 * challenge its sign-in.
 */
export const MAX_CHALLENGES_PER_USER = 10;
export const MAX_PASSWORDLESS_CHALLENGES = 10_000;

/** A passkey as its owner sees it. */
export interface PasskeyView {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/**
 * Passkeys (WebAuthn) with @simplewebauthn/server (checklist M3): discoverable credentials with
 * user verification required, for a passwordless sign-in or as a second factor. Challenges are
 * kept server-side, single-use (deleted as they are answered) and short-lived; origin and RP ID
 * are pinned (WEBAUTHN_ORIGINS, WEBAUTHN_RP_ID); the library refuses a signature counter that
 * did not grow (a cloned authenticator) when the authenticator keeps one.
 */
@Injectable()
export class PasskeysService {
  private readonly rpId: string;
  private readonly origins: string[];

  constructor(
    @InjectRepository(Passkey) private readonly passkeys: Repository<Passkey>,
    @InjectRepository(WebAuthnChallenge)
    private readonly challenges: Repository<WebAuthnChallenge>,
    @Inject(authServiceConfig.KEY) private readonly env: ConfigType<typeof authServiceConfig>,
    private readonly clock: Clock,
  ) {
    const issuer = new URL(env.ISSUER);
    this.rpId = env.WEBAUTHN_RP_ID || issuer.hostname;
    this.origins = env.WEBAUTHN_ORIGINS.length > 0 ? env.WEBAUTHN_ORIGINS : [issuer.origin];
  }

  /** Options for `navigator.credentials.create()`: a discoverable passkey, user verification required. */
  async registrationOptions(user: {
    id: string;
    email: string;
  }): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.passkeys.findBy({ userId: user.id });
    const options = await webAuthn().generateRegistrationOptions({
      rpName: this.env.MFA_ISSUER_NAME,
      rpID: this.rpId,
      userID: new TextEncoder().encode(user.id),
      userName: user.email,
      attestationType: 'none',
      timeout: WEBAUTHN_CHALLENGE_TTL * 1000,
      excludeCredentials: existing.map((passkey) => ({
        id: passkey.credentialId,
        transports: passkey.transports as AuthenticatorTransport[],
      })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
    await this.storeChallenge(options.challenge, 'registration', user.id);
    return options;
  }

  /**
   * Registers the passkey `response` made for a registration challenge of this user's.
   * @throws BadRequestException (400 `invalid_passkey`) when it does not verify
   */
  async register(userId: string, response: PasskeyAttestation, name: string): Promise<PasskeyView> {
    if ((await this.passkeys.countBy({ userId })) >= MAX_PASSKEYS_PER_USER) {
      throw invalidPasskey(`A user may have at most ${MAX_PASSKEYS_PER_USER} passkeys`);
    }
    const challenge = await this.spendChallenge(response, 'registration');
    if (!challenge || challenge.userId !== userId) throw invalidPasskey();
    const verification = await webAuthn()
      .verifyRegistrationResponse({
        response,
        expectedChallenge: challenge.challenge,
        expectedOrigin: this.origins,
        expectedRPID: this.rpId,
        requireUserVerification: true,
      })
      .catch(() => undefined);
    if (!verification?.verified || !verification.registrationInfo) throw invalidPasskey();
    const { credential } = verification.registrationInfo;
    const saved = await this.passkeys
      .save({
        userId,
        credentialId: credential.id,
        publicKey: Buffer.from(credential.publicKey),
        counter: String(credential.counter),
        transports: credential.transports ?? [],
        name,
        createdAt: this.clock.now(),
        lastUsedAt: null,
      })
      .catch(() => {
        throw invalidPasskey('This passkey is registered already');
      });
    return viewOf(saved);
  }

  /**
   * Options for `navigator.credentials.get()`. For a passwordless sign-in (no user): any
   * discoverable passkey of this site; as a second factor: the user's own passkeys.
   */
  async authenticationOptions(userId?: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const allowed = userId ? await this.passkeys.findBy({ userId }) : [];
    const options = await webAuthn().generateAuthenticationOptions({
      rpID: this.rpId,
      userVerification: 'required',
      timeout: WEBAUTHN_CHALLENGE_TTL * 1000,
      allowCredentials: allowed.map((passkey) => ({
        id: passkey.credentialId,
        transports: passkey.transports as AuthenticatorTransport[],
      })),
    });
    await this.storeChallenge(options.challenge, 'authentication', userId ?? null);
    return options;
  }

  /** A passwordless sign-in: the user whose passkey signed a live challenge, or undefined. */
  async authenticate(response: PasskeyAssertion): Promise<string | undefined> {
    const challenge = await this.spendChallenge(response, 'authentication');
    if (!challenge || challenge.userId !== null) return undefined;
    return this.verifyAssertion(response, challenge.challenge);
  }

  /** A second factor: whether the user's own passkey signed a challenge issued to the user. */
  async verifySecondFactor(userId: string, response: PasskeyAssertion): Promise<boolean> {
    const challenge = await this.spendChallenge(response, 'authentication');
    if (!challenge || challenge.userId !== userId) return false;
    return (await this.verifyAssertion(response, challenge.challenge)) === userId;
  }

  list(userId: string): Promise<PasskeyView[]> {
    return this.passkeys
      .find({ where: { userId }, order: { createdAt: 'ASC' } })
      .then((passkeys) => passkeys.map(viewOf));
  }

  count(userId: string): Promise<number> {
    return this.passkeys.countBy({ userId });
  }

  /** @throws NotFoundException for another user's passkey as for none */
  async rename(userId: string, id: string, name: string): Promise<PasskeyView> {
    const passkey = await this.passkeys.findOneBy({ id, userId });
    if (!passkey) throw new NotFoundException('No such passkey');
    passkey.name = name;
    return viewOf(await this.passkeys.save(passkey));
  }

  /** @throws NotFoundException for another user's passkey as for none */
  async remove(userId: string, id: string): Promise<void> {
    const { affected } = await this.passkeys.delete({ id, userId });
    if (!affected) throw new NotFoundException('No such passkey');
  }

  private async verifyAssertion(
    response: PasskeyAssertion,
    expectedChallenge: string,
  ): Promise<string | undefined> {
    if (typeof response.id !== 'string' || !BASE64URL.test(response.id)) return undefined;
    const passkey = await this.passkeys.findOneBy({ credentialId: response.id });
    if (!passkey) return undefined;
    const verification = await webAuthn()
      .verifyAuthenticationResponse({
        response,
        expectedChallenge,
        expectedOrigin: this.origins,
        expectedRPID: this.rpId,
        requireUserVerification: true,
        credential: {
          id: passkey.credentialId,
          publicKey: new Uint8Array(passkey.publicKey),
          counter: Number(passkey.counter),
          transports: passkey.transports as AuthenticatorTransport[],
        },
      })
      .catch(() => undefined);
    if (!verification?.verified) return undefined;
    // Only forward: of two assertions racing with one counter value, one moves it.
    const moved: unknown[] = await this.passkeys.query(
      `WITH used AS (
         UPDATE passkeys SET counter = $2, last_used_at = $3
          WHERE id = $1 AND (counter < $2 OR (counter = 0 AND $2 = 0))
         RETURNING id
       )
       SELECT id FROM used`,
      [passkey.id, verification.authenticationInfo.newCounter, this.clock.now()],
    );
    return moved.length === 1 ? passkey.userId : undefined;
  }

  private async storeChallenge(
    challenge: string,
    purpose: WebAuthnChallenge['purpose'],
    userId: string | null,
  ): Promise<void> {
    const now = this.clock.now();
    await this.challenges.delete({ expiresAt: LessThan(now) });
    await this.challenges.insert({
      challenge,
      purpose,
      userId,
      expiresAt: new Date(now.getTime() + WEBAUTHN_CHALLENGE_TTL * 1000),
    });
    await this.challenges.query(
      `DELETE FROM webauthn_challenges WHERE challenge IN (
         SELECT challenge FROM webauthn_challenges
          WHERE user_id IS NOT DISTINCT FROM $1 AND challenge <> $2
          ORDER BY expires_at DESC OFFSET $3)`,
      [
        userId,
        challenge,
        (userId === null ? MAX_PASSWORDLESS_CHALLENGES : MAX_CHALLENGES_PER_USER) - 1,
      ],
    );
  }

  /**
   * Deletes the challenge the response answers (from its clientDataJSON) and returns it, if it
   * was live and for this purpose: a challenge is answered once, however the answer turns out.
   */
  private async spendChallenge(
    response: PasskeyAttestation | PasskeyAssertion,
    purpose: WebAuthnChallenge['purpose'],
  ): Promise<WebAuthnChallenge | undefined> {
    const challenge = challengeOf(response);
    if (!challenge) return undefined;
    const rows: { challenge: string; user_id: string | null }[] = await this.challenges.query(
      `WITH spent AS (
         DELETE FROM webauthn_challenges
          WHERE challenge = $1 AND purpose = $2 AND expires_at > $3
         RETURNING challenge, user_id
       )
       SELECT challenge, user_id FROM spent`,
      [challenge, purpose, this.clock.now()],
    );
    const [row] = rows;
    return (
      row && { challenge: row.challenge, purpose, userId: row.user_id, expiresAt: new Date(0) }
    );
  }
}

/**
 * A challenge or credential id as WebAuthn's JSON carries it (base64url, at most 512 characters):
 * anything else is answered like a wrong passkey before it reaches a query (PostgreSQL's text
 * refuses a NUL with an error, which would be a 500).
 */
const BASE64URL = /^[A-Za-z0-9_-]{1,512}$/;

/** The challenge a WebAuthn response answers, read from its clientDataJSON; undefined if unreadable. */
function challengeOf(response: { response?: { clientDataJSON?: unknown } }): string | undefined {
  const data = response?.response?.clientDataJSON;
  if (typeof data !== 'string' || data.length > 4096) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(data, 'base64url').toString('utf8'));
    const challenge = (parsed as { challenge?: unknown } | null)?.challenge;
    return typeof challenge === 'string' && BASE64URL.test(challenge) ? challenge : undefined;
  } catch {
    return undefined;
  }
}

function viewOf(passkey: Passkey): PasskeyView {
  return {
    id: passkey.id,
    name: passkey.name,
    createdAt: passkey.createdAt,
    lastUsedAt: passkey.lastUsedAt,
  };
}

function invalidPasskey(message = 'The passkey did not verify; start again'): BadRequestException {
  return new BadRequestException({ error: 'invalid_passkey', message });
}
