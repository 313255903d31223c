import { createTestApplication } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import registryFile from '../../registry.json';
import { AppModule } from '../app.module';
import { authServiceConfig } from '../config/auth-service.config';
import { Client } from './client.entity';
import { CLIENT_CACHE_TTL_MS, ClientCache } from './client-cache';
import { hashClientSecret } from './client-secret';
import { clientsCommand } from './clients.command';
import { ClientsService } from './clients.service';

/** Waits for `condition`, up to `ms`; false if it never held. */
async function eventually(condition: () => Promise<boolean> | boolean, ms: number) {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return condition();
}

describe('OAuth clients on real PostgreSQL', () => {
  const provisioned = randomBytes(32).toString('base64url');
  let service: TestApplication;
  let clients: ClientsService;

  beforeAll(async () => {
    service = await createTestApplication(AppModule, authServiceConfig, {
      CLIENT_SECRETS: `resource-service=${provisioned}`,
    });
    clients = service.app.get(ClientsService);
  });
  afterAll(() => service.close());

  it('starts with the clients of apps/auth-service/registry.json, and no other', async () => {
    expect(await clients.list()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: 'resource-service',
          type: 'confidential',
          grantTypes: ['client_credentials'],
          audiences: ['auth-service'],
        }),
        expect.objectContaining({
          id: 'tessera-first-party',
          type: 'public',
          grantTypes: ['refresh_token'],
          secretHash: null,
        }),
      ]),
    );
    // Services made by the service generator add clients of their own to the registry.
    expect((await clients.list()).map((client) => client.id).sort()).toEqual(
      registryFile.clients.map((client) => client.id).sort(),
    );
  });

  it('sets CLIENT_SECRETS at start-up as hashes, never in plaintext', async () => {
    const [row] = await service.app
      .get(DataSource)
      .query(`SELECT secret_hash FROM clients WHERE id = 'resource-service'`);
    expect(Buffer.from(row.secret_hash).equals(hashClientSecret(provisioned))).toBe(true);
    expect(
      await clients.authenticate({ clientId: 'resource-service', secret: provisioned }),
    ).toMatchObject({ id: 'resource-service' });
  });

  it('authenticates a confidential client only with its secret, and a public one only without', async () => {
    expect(
      await clients.authenticate({ clientId: 'resource-service', secret: `${provisioned}x` }),
    ).toBeNull();
    expect(await clients.authenticate({ clientId: 'resource-service' })).toBeNull();
    expect(await clients.authenticate({ clientId: 'tessera-first-party' })).toMatchObject({
      type: 'public',
    });
    expect(await clients.authenticate({ clientId: 'tessera-first-party', secret: '' })).toBeNull();
    expect(
      await clients.authenticate({ clientId: 'NOT A CLIENT', secret: provisioned }),
    ).toBeNull();
  });

  it('creates a confidential client with the command, printing its secret once; list never shows it', async () => {
    const output = await clientsCommand(service.app, [
      'create',
      'reports-service',
      '--grant',
      'client_credentials',
      '--scope',
      'notes:read',
      '--audience',
      'resource-service',
    ]);
    const secret = output.split('\n').at(-1) ?? '';
    expect(output).toMatch(
      /^Created reports-service\. Its secret, shown this once:\n[A-Za-z0-9_-]{43}$/,
    );
    expect(await clients.authenticate({ clientId: 'reports-service', secret })).toMatchObject({
      scopes: ['notes:read'],
    });
    const listed = await clientsCommand(service.app, ['list']);
    expect(listed).toContain(
      'reports-service  confidential  grants: client_credentials  scopes: notes:read  audiences: resource-service',
    );
    expect(listed).not.toContain(secret);
  });

  it('rotates a secret: the new one works and the old one stops', async () => {
    const { secret: old } = await clients.create({
      id: 'rotating-service',
      type: 'confidential',
      grantTypes: ['client_credentials'],
      scopes: [],
      audiences: [],
    });
    const output = await clientsCommand(service.app, ['rotate-secret', 'rotating-service']);
    const fresh = output.split('\n').at(-1) ?? '';
    expect(
      await clients.authenticate({ clientId: 'rotating-service', secret: fresh }),
    ).not.toBeNull();
    expect(
      await clients.authenticate({ clientId: 'rotating-service', secret: old ?? '' }),
    ).toBeNull();
  });

  describe('the client cache (ClientCache)', () => {
    let cache: ClientCache;
    let other: ClientsService;

    beforeAll(() => {
      cache = service.app.get(ClientCache);
      const dataSource = service.app.get(DataSource);
      // Another instance (or the clients command in its own process): its own, empty cache.
      other = new ClientsService(
        dataSource.getRepository(Client),
        service.app.get(authServiceConfig.KEY),
        new ClientCache(dataSource),
      );
    });

    it('serves a client from memory, and a rotation by another instance ends the old secret here within moments', async () => {
      const { secret: old = '' } = await clients.create({
        id: 'cached-service',
        type: 'confidential',
        grantTypes: ['client_credentials'],
        scopes: [],
        audiences: [],
      });
      // Cached by the first authentication after the creation's own notification has arrived.
      const cached = await eventually(async () => {
        expect(
          await clients.authenticate({ clientId: 'cached-service', secret: old }),
        ).not.toBeNull();
        return cache.get('cached-service') !== undefined;
      }, 2_000);
      expect(cached).toBe(true);

      // The attack: the leaked old secret, presented here after a rotation elsewhere. The
      // notification must end it well before the cache's own expiry would.
      const fresh = await other.rotateSecret('cached-service');
      const ended = await eventually(
        async () =>
          (await clients.authenticate({ clientId: 'cached-service', secret: old })) === null,
        CLIENT_CACHE_TTL_MS / 4,
      );
      expect(ended).toBe(true);
      expect(
        await clients.authenticate({ clientId: 'cached-service', secret: fresh }),
      ).not.toBeNull();
      // A secret set elsewhere a moment ago works here at once, notification or not: a
      // mismatch is checked again against the database.
      const newest = await other.rotateSecret('cached-service');
      expect(
        await clients.authenticate({ clientId: 'cached-service', secret: newest }),
      ).not.toBeNull();
    });

    it('caches nothing while it cannot hear changes, and listens again', async () => {
      const { secret = '' } = await clients.create({
        id: 'unheard-service',
        type: 'confidential',
        grantTypes: ['client_credentials'],
        scopes: [],
        audiences: [],
      });
      expect(await clients.authenticate({ clientId: 'unheard-service', secret })).not.toBeNull();
      const dataSource = service.app.get(DataSource);
      await dataSource.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND query = 'LISTEN tessera_clients'`,
      );
      expect(await eventually(() => !cache.listening, 2_000)).toBe(true);
      // A change nobody announces (by hand in psql) is seen at once while nothing is cached.
      await dataSource.query(`UPDATE clients SET secret_hash = $1 WHERE id = 'unheard-service'`, [
        hashClientSecret(`${secret}x`),
      ]);
      expect(await clients.authenticate({ clientId: 'unheard-service', secret })).toBeNull();
      expect(await eventually(() => cache.listening, 5_000)).toBe(true);
    });
  });

  it.each([
    [['create', 'Bad Id', '--grant', 'client_credentials'], 'A client id is 2–64 characters'],
    [
      ['create', '3f1b6c1e-6f0e-4d7c-9a57-2f6f0a4f2b10', '--grant', 'client_credentials'],
      'A client id is 2–64 characters',
    ],
    [
      ['create', 'web-app', '--type', 'public', '--grant', 'client_credentials'],
      'A public client holds no secret',
    ],
    [
      ['create', 'web-app', '--grant', 'password'],
      '--grant is one of authorization_code, refresh_token, client_credentials',
    ],
    [['create', 'web-app'], 'at least one grant'],
    [
      ['create', 'resource-service', '--grant', 'client_credentials'],
      'A client resource-service exists already',
    ],
    [
      ['rotate-secret', 'tessera-first-party'],
      'There is no confidential client tessera-first-party',
    ],
    [['explode'], 'Usage:'],
  ])('refuses clients %j with a message that says why', async (args, message) => {
    await expect(clientsCommand(service.app, args)).rejects.toThrow(message);
  });

  it('refuses to start when CLIENT_SECRETS names a client that is not confidential', async () => {
    await expect(
      createTestApplication(AppModule, authServiceConfig, {
        CLIENT_SECRETS: `tessera-first-party=${provisioned}`,
      }),
    ).rejects.toThrow(
      'CLIENT_SECRETS names tessera-first-party, which is not a confidential client',
    );
  });
});
