import type { TestApplication } from '@tessera/platform-testing';
import { AccessTokenVerifier, Clock } from '@tessera/auth-token';
import { DataSource } from 'typeorm';
import { authServiceConfig } from '../config/auth-service.config';
import {
  controlClock,
  createFeatureTestApplication,
} from '../feature-test-application.spec-helper';
import { hashOpaqueToken } from '../authorization/opaque-token';
import { KeysModule } from '../keys/keys.module';
import { KeysService } from '../keys/keys.service';
import { SessionsModule } from '../sessions/sessions.module';
import { SessionsService } from '../sessions/sessions.service';
import { User } from '../users/user.entity';
import { AccessTokenService } from './access-token.service';
import { ReferenceTokens } from './reference-tokens';

const ISSUER = 'https://auth.example.com';
const TTL = 900;

describe('reference access tokens (ACCESS_TOKEN_FORMAT=reference) on real PostgreSQL', () => {
  let service: TestApplication;
  let tokens: AccessTokenService;
  let references: ReferenceTokens;
  let database: DataSource;
  let clock: ReturnType<typeof controlClock>;
  let sessionId: string;
  let userId: string;

  const userInput = () => ({
    subject: userId,
    clientId: 'tessera-first-party',
    scope: 'notes:read',
    roles: [],
    sessionId,
    audience: ['resource-service'],
  });

  beforeAll(async () => {
    service = await createFeatureTestApplication(
      { imports: [KeysModule, SessionsModule] },
      { ISSUER, ACCESS_TOKEN_TTL: String(TTL), ACCESS_TOKEN_FORMAT: 'reference' },
    );
    tokens = service.app.get(AccessTokenService);
    references = service.app.get(ReferenceTokens);
    database = service.app.get(DataSource);
    clock = controlClock(service);
    const users = database.getRepository(User);
    userId = (await users.save(users.create({ email: 'ref@example.com', passwordHash: 'x' }))).id;
    const started = await service.app.get(SessionsService).start({
      userId,
      clientId: 'tessera-first-party',
      scope: 'notes:read',
      audiences: ['resource-service'],
    });
    sessionId = started.session.id;
  });
  afterAll(() => service.close());

  it("issues a user's token as 43 opaque characters and keeps only their SHA-256 with the claims", async () => {
    const { token, jti } = await tokens.issue(userInput());
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows: { token_hash: Buffer; claims: Record<string, unknown> }[] = await database.query(
      `SELECT token_hash, claims FROM reference_tokens WHERE session_id = $1`,
      [sessionId],
    );
    const row = rows.find((candidate) => candidate.token_hash.equals(hashOpaqueToken(token)));
    expect(row?.claims).toMatchObject({ sub: userId, sid: sessionId, jti, iss: ISSUER });
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it('still signs a service token (no session) as a JWT', async () => {
    const { token } = await tokens.issue({ ...userInput(), sessionId: undefined });
    expect(token.split('.')).toHaveLength(3);
  });

  it('knows a reference until its exp, then no more; a JWT or garbage never', async () => {
    const { token } = await tokens.issue(userInput());
    clock.advance(TTL - 1);
    expect(await references.claimsOf(token)).toMatchObject({ sub: userId, sid: sessionId });
    clock.advance(1);
    expect(await references.claimsOf(token)).toBeUndefined();
    const { token: service } = await tokens.issue({ ...userInput(), sessionId: undefined });
    expect(await references.claimsOf(service)).toBeUndefined();
    expect(await references.claimsOf('A'.repeat(43))).toBeUndefined();
  });

  it("drops a session's expired references when it issues the next one", async () => {
    const count = async () =>
      Number(
        (
          await database.query(`SELECT count(*) AS n FROM reference_tokens WHERE session_id = $1`, [
            sessionId,
          ])
        )[0].n,
      );
    await tokens.issue(userInput());
    clock.advance(TTL);
    await tokens.issue(userInput());
    expect(await count()).toBe(1);
  });

  it('signs the JWT a reference stands for: a token every guard accepts, with its claims', async () => {
    const { token } = await tokens.issue(userInput());
    const claims = await references.claimsOf(token);
    const jwt = await tokens.sign(claims as NonNullable<typeof claims>);
    const verifier = new AccessTokenVerifier({
      issuer: service.app.get<{ ISSUER: string }>(authServiceConfig.KEY).ISSUER,
      audiences: ['resource-service'],
      keys: service.app.get(KeysService),
      clock: service.app.get(Clock),
    });
    expect((await verifier.verify(jwt)).claims).toEqual(claims);
  });
});
