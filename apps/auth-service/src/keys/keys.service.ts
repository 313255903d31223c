import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { IsNull, LessThanOrEqual, MoreThan } from 'typeorm';
import type { EntityManager, Repository } from 'typeorm';
import { authServiceConfig, SIGNING_KEYS_RELOAD_SECONDS } from '../config/auth-service.config';
import { DomainEvents } from '../events/domain-events';
import { Clock } from '@tessera/auth-token';
import type { VerificationKey, VerificationKeySource } from '@tessera/auth-token';
import { KeyEncryption } from './key-encryption';
import type { SigningAlgorithm } from './signing-algorithm';
import { generateSigningKeyPair, publicMembers } from './signing-key-pair';
import type { PublicJwk } from './signing-key-pair';
import { SigningKey } from './signing-key.entity';

/**
 * How long a retired key stays published beyond the longest token it signed can live
 * (ACCESS_TOKEN_TTL or SERVICE_TOKEN_TTL): clock skew (above CLOCK_TOLERANCE_SECONDS) and stragglers.
 */
export const RETIRED_KEY_LEEWAY_SECONDS = 60;

/**
 * Every instance re-reads the keys this often, to learn of a rotation made by another instance
 * (the configuration owns the figure: SIGNING_KEY_ACTIVATION_DELAY is validated against it).
 */
const RELOAD_INTERVAL_MS = SIGNING_KEYS_RELOAD_SECONDS * 1000;

/** An unknown kid triggers at most one re-read per this interval, however many such tokens come. */
const UNKNOWN_KID_COOLDOWN_MS = 5_000;

/** `pg_advisory_xact_lock` id that serialises key creation across instances ("sk" + 7638). */
const SIGNING_KEYS_LOCK = 0x736b_7638;

export interface ActiveSigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: KeyObject;
}

export type PublishedJwk = PublicJwk & { kid: string; use: 'sig'; alg: SigningAlgorithm };

export interface PendingSigningKey {
  kid: string;
  alg: SigningAlgorithm;
  activatesAt: Date;
}

interface Snapshot {
  keys: SigningKey[];
  loadedAt: number;
}

/**
 * The signing keys of auth-service: created, rotated, published and cached. A key's whole life is
 * fixed by timestamps written in the database, so instances switch keys at the same moment
 * without talking to each other; each keeps the published keys in memory and re-reads them every
 * RELOAD_INTERVAL_MS, so signing never waits for the database or a decryption.
 */
@Injectable()
export class KeysService implements OnApplicationBootstrap, VerificationKeySource {
  private readonly logger = new Logger(KeysService.name);
  private snapshot?: Snapshot;
  private loading?: Promise<SigningKey[]>;
  private lastUnknownKidReload = Number.NEGATIVE_INFINITY;
  private readonly privateKeys = new Map<string, KeyObject>();
  private readonly publicKeys = new Map<string, KeyObject>();

  constructor(
    @InjectRepository(SigningKey) private readonly repository: Repository<SigningKey>,
    private readonly encryption: KeyEncryption,
    private readonly clock: Clock,
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
    @Optional() private readonly events?: DomainEvents,
  ) {}

  /**
   * At start-up rather than on first use: the JWKS has a key before the first token is asked
   * for, and a wrong KEY_ENCRYPTION_KEY stops the start instead of the first login.
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.ensureActiveKey();
    await this.signingKey();
  }

  /** Creates a key that signs at once when none does; one key however many instances race. */
  async ensureActiveKey(): Promise<void> {
    await this.locked(async (manager) => {
      const now = this.clock.now();
      const keys = await manager.find(SigningKey, { where: publishedAt(now) });
      if (activeAt(keys, now)) return;
      // Nothing signs, so nothing can be waiting for this key: no activation delay.
      await this.insertKey(manager, now);
    });
    await this.reload();
  }

  /**
   * Creates the next key: published now, signing after SIGNING_KEY_ACTIVATION_DELAY, when the
   * current key retires; that one stays published for the longest token lifetime + leeway more. Called
   * while a next key is pending, it returns that key instead of stacking another.
   */
  async rotate(): Promise<PendingSigningKey> {
    const next = await this.locked(async (manager) => {
      const now = this.clock.now();
      const keys = await manager.find(SigningKey, { where: publishedAt(now) });
      const pending = keys.find((key) => key.activatesAt > now);
      if (pending) return pending;
      // Rows are filtered out of the JWKS the moment they expire; deleted here, so the table and
      // the encrypted private keys in it do not grow without bound.
      await manager.delete(SigningKey, { publishedUntil: LessThanOrEqual(now) });
      const current = activeAt(keys, now);
      const activatesAt = current
        ? new Date(now.getTime() + this.environment.SIGNING_KEY_ACTIVATION_DELAY * 1000)
        : now;
      const publishedUntil = new Date(
        activatesAt.getTime() +
          (longestTokenLifetime(this.environment) + RETIRED_KEY_LEEWAY_SECONDS) * 1000,
      );
      await manager.update(
        SigningKey,
        { retiredAt: IsNull() },
        { retiredAt: activatesAt, publishedUntil },
      );
      const key = await this.insertKey(manager, activatesAt);
      await this.events?.record(manager, 'signing-key.rotated', {
        kid: key.kid,
        alg: key.algorithm,
        active_from: Math.floor(activatesAt.getTime() / 1000),
      });
      return key;
    });
    await this.reload();
    this.logger.log(`Signing key ${next.kid} activates at ${next.activatesAt.toISOString()}`);
    return { kid: next.kid, alg: next.algorithm, activatesAt: next.activatesAt };
  }

  /** The key that signs now, from memory; the pending key takes over the moment it activates. */
  async signingKey(): Promise<ActiveSigningKey> {
    let key = activeAt(await this.publishedKeys(), this.clock.now());
    if (!key) {
      await this.ensureActiveKey();
      key = activeAt(await this.publishedKeys(), this.clock.now());
    }
    if (!key) throw new Error('No signing key is active');
    return { kid: key.kid, alg: key.algorithm, privateKey: this.privateKeyOf(key) };
  }

  /** A key auth-service publishes, by kid; never from a token's own jwk/jku/x5u/x5c headers. */
  /** Whether `kid` is published now, by this instance's last read (a cached verification's key). */
  has(kid: string): boolean {
    const now = this.clock.now();
    return (
      this.snapshot?.keys.some(
        (key) => key.kid === kid && (!key.publishedUntil || key.publishedUntil > now),
      ) ?? false
    );
  }

  /** The public key of a published `kid`, for AccessTokenVerifier (auth-service reads no JWKS of its own). */
  async key(kid: string): Promise<VerificationKey | undefined> {
    let key = (await this.publishedKeys()).find((candidate) => candidate.kid === kid);
    const now = this.clock.now().getTime();
    if (!key && now - this.lastUnknownKidReload >= UNKNOWN_KID_COOLDOWN_MS) {
      // Perhaps another instance rotated since the last read; ask again, but only so often.
      this.lastUnknownKidReload = now;
      key = (await this.reload()).find((candidate) => candidate.kid === kid);
    }
    if (!key) return undefined;
    return { alg: key.algorithm, key: this.publicKeyOf(key) };
  }

  /** The JWK Set: every published key (pending, active, recently retired), public members only. */
  async jwks(): Promise<{ keys: PublishedJwk[] }> {
    const keys = await this.publishedKeys();
    return {
      // Rebuilt member by member: nothing stored beside the public members can be published.
      keys: keys.map((key) => ({
        ...publicMembers(key.publicJwk),
        kid: key.kid,
        use: 'sig',
        alg: key.algorithm,
      })),
    };
  }

  private async publishedKeys(): Promise<SigningKey[]> {
    const now = this.clock.now();
    const fresh =
      this.snapshot && now.getTime() - this.snapshot.loadedAt < RELOAD_INTERVAL_MS
        ? this.snapshot.keys
        : await this.reload();
    return fresh.filter((key) => !key.publishedUntil || key.publishedUntil > now);
  }

  /** One read at a time, however many callers find the snapshot stale together. */
  private reload(): Promise<SigningKey[]> {
    this.loading ??= this.read().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async read(): Promise<SigningKey[]> {
    const now = this.clock.now();
    const keys = await this.repository.find({
      where: publishedAt(now),
      order: { activatesAt: 'DESC' },
    });
    const kids = new Set(keys.map((key) => key.kid));
    for (const cache of [this.privateKeys, this.publicKeys]) {
      for (const kid of cache.keys()) if (!kids.has(kid)) cache.delete(kid);
    }
    this.snapshot = { keys, loadedAt: now.getTime() };
    return keys;
  }

  private async insertKey(manager: EntityManager, activatesAt: Date): Promise<SigningKey> {
    const algorithm = this.environment.SIGNING_ALGORITHM;
    const pair = await generateSigningKeyPair(algorithm);
    const pem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const key = manager.create(SigningKey, {
      kid: pair.kid,
      algorithm,
      publicJwk: pair.publicJwk,
      privateKey: this.encryption.encrypt(pem, pair.kid),
      activatesAt,
      retiredAt: null,
      publishedUntil: null,
    });
    await manager.insert(SigningKey, key);
    this.privateKeys.set(pair.kid, pair.privateKey);
    return key;
  }

  /** A transaction holding the signing-keys advisory lock, so instances create keys one by one. */
  private locked<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.repository.manager.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [SIGNING_KEYS_LOCK]);
      return work(manager);
    });
  }

  private privateKeyOf(key: SigningKey): KeyObject {
    let privateKey = this.privateKeys.get(key.kid);
    if (!privateKey) {
      privateKey = createPrivateKey(this.decrypt(key));
      this.privateKeys.set(key.kid, privateKey);
    }
    return privateKey;
  }

  private decrypt(key: SigningKey): string {
    try {
      return this.encryption.decrypt(key.privateKey, key.kid);
    } catch {
      // GCM refuses a key other than the one that encrypted: say so plainly, it is the usual cause.
      throw new Error(
        `Signing key ${key.kid} cannot be decrypted: KEY_ENCRYPTION_KEY is not the key it was ` +
          'encrypted with. Restore the original KEY_ENCRYPTION_KEY (in development: the file ' +
          'DATA_DIR/auth-service/key-encryption-key), or start on an empty database.',
      );
    }
  }

  private publicKeyOf(key: SigningKey): KeyObject {
    let publicKey = this.publicKeys.get(key.kid);
    if (!publicKey) {
      publicKey = createPublicKey({ key: { ...key.publicJwk }, format: 'jwk' });
      this.publicKeys.set(key.kid, publicKey);
    }
    return publicKey;
  }
}

/** Rows still in the JWKS at `now`. */
function publishedAt(now: Date) {
  return [{ publishedUntil: IsNull() }, { publishedUntil: MoreThan(now) }];
}

/** The key signing at `now`: activated, not yet retired; the latest if several qualify. */
function activeAt(keys: SigningKey[], now: Date): SigningKey | undefined {
  return keys
    .filter((key) => key.activatesAt <= now && (!key.retiredAt || key.retiredAt > now))
    .sort((a, b) => b.activatesAt.getTime() - a.activatesAt.getTime())[0];
}

/** A key must stay published while any token it signed can live: user tokens and service tokens. */
function longestTokenLifetime(environment: {
  ACCESS_TOKEN_TTL: number;
  SERVICE_TOKEN_TTL: number;
}): number {
  return Math.max(environment.ACCESS_TOKEN_TTL, environment.SERVICE_TOKEN_TTL);
}
