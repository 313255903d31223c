import type { TestApplication } from '@tessera/platform-testing';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import registryFile from '../../registry.json';
import { createFeatureTestApplication } from '../feature-test-application.spec-helper';
import { ClientsModule } from './clients.module';
import { ClientsService } from './clients.service';
import { Registry } from './registry';

/** The registry as the service is built with it, as plain data to change in a test. */
const asWritten = () => structuredClone(registryFile) as typeof registryFile;

describe('the registry, applied at start-up on real PostgreSQL', () => {
  const secret = randomBytes(32).toString('base64url');
  let service: TestApplication;

  /** The same feature on the same database, as a restart of the service would be. */
  const restart = (registry?: Registry) => {
    if (registry) jest.spyOn(Registry, 'load').mockReturnValue(registry);
    return createFeatureTestApplication(
      { imports: [ClientsModule] },
      // One try: a start that fails on the registry leaves its connection behind, and a retry of
      // it after the suite has dropped the database would outlive the suite.
      { DATABASE_URL: service.databaseUrl, DATABASE_CONNECT_ATTEMPTS: '1' },
    );
  };
  /**
   * A restart that must be refused with `message`. Nest cannot stop the providers already starting
   * when one fails: TypeORM's may go on to open its pool after the refusal. That pool is awaited
   * and closed here, so that nothing of the refused start runs after this file's tests (Jest fails the
   * whole run when a module loads after its environment is torn down, even with every test passed).
   */
  const expectRestartRefused = async (message: string, registry?: Registry) => {
    const initialize = DataSource.prototype.initialize;
    const opened = new Promise<DataSource>((resolve, reject) => {
      jest.spyOn(DataSource.prototype, 'initialize').mockImplementation(function (
        this: DataSource,
      ) {
        const started = initialize.call(this);
        started.then(resolve, reject);
        return started;
      });
    });
    await expect(restart(registry)).rejects.toThrow(message);
    let waited: NodeJS.Timeout | undefined;
    const pool = await Promise.race([
      opened,
      new Promise<never>((_, reject) => {
        waited = setTimeout(
          () => reject(new Error('the refused start never opened its TypeORM pool within 20 s')),
          20_000,
        );
      }),
    ]).finally(() => clearTimeout(waited));
    // Closed already where the refusal came after the start had its pool (Nest closes the app).
    if (pool.isInitialized) await pool.destroy();
  };
  const query = <T>(sql: string): Promise<T[]> => service.app.get(DataSource).query(sql);
  const clientRows = () =>
    query<Record<string, unknown>>(
      `SELECT id, type, secret_hash, grant_types, scopes, audiences, default_audiences, created_at
         FROM clients ORDER BY id`,
    );
  const registryEvents = () =>
    query<{ type: string; detail: Record<string, string> }>(
      // One start-up's events share a transaction, so a time: then by type and client.
      `SELECT type, detail FROM audit_events WHERE type IN ('client.registered', 'client.updated')
        ORDER BY occurred_at, type, detail->>'clientId'`,
    );

  beforeAll(async () => {
    service = await createFeatureTestApplication(
      { imports: [ClientsModule] },
      { CLIENT_SECRETS: `resource-service=${secret}` },
    );
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(() => service.close());

  it('creates every client of the registry on an empty database, as written, each audited', async () => {
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    expect(await service.app.get(ClientsService).list()).toEqual(
      [...registryFile.clients].sort(byId).map((client) =>
        expect.objectContaining({
          ...client,
          // CLIENT_SECRETS, set after the registry was applied; the registry never holds one.
          secretHash: client.id === 'resource-service' ? expect.anything() : null,
        }),
      ),
    );
    expect(await registryEvents()).toEqual([
      {
        type: 'client.registered',
        detail: {
          clientId: 'gateway',
          type: 'confidential',
          grantTypes: 'client_credentials',
          scopes: 'revocations:read tokens:phantom',
          audiences: 'auth-service',
          defaultAudiences: 'auth-service',
        },
      },
      {
        type: 'client.registered',
        detail: {
          clientId: 'resource-service',
          type: 'confidential',
          grantTypes: 'client_credentials',
          scopes: 'tokens:introspect revocations:read',
          audiences: 'auth-service',
          defaultAudiences: 'auth-service',
        },
      },
      {
        type: 'client.registered',
        detail: {
          clientId: 'tessera-first-party',
          type: 'public',
          grantTypes: 'refresh_token',
          scopes: 'openid email admin notes:read notes:write',
          audiences: 'auth-service resource-service',
          defaultAudiences: 'resource-service',
        },
      },
      {
        type: 'client.registered',
        detail: {
          clientId: 'web',
          type: 'public',
          grantTypes: 'authorization_code refresh_token',
          scopes: 'openid email notes:read notes:write',
          audiences: 'auth-service resource-service',
          defaultAudiences: 'resource-service',
          redirectUris: 'http://localhost:4200/callback',
          postLogoutRedirectUris: 'http://localhost:4200/',
          firstParty: 'true',
        },
      },
    ]);
    expect(service.app.get(Registry).audienceIds).toEqual(['auth-service', 'resource-service']);
  });

  it('changes nothing and audits nothing when the same registry is applied again', async () => {
    const rows = await clientRows();
    const events = await registryEvents();
    const again = await restart();
    await again.close();
    expect(await clientRows()).toEqual(rows);
    expect(await registryEvents()).toEqual(events);
  });

  it('brings a changed client to what the registry says, keeps its secret, audits the change, and leaves a hand-made client alone', async () => {
    const clients = service.app.get(ClientsService);
    await clients.create({
      id: 'reports-service',
      type: 'confidential',
      grantTypes: ['client_credentials'],
      scopes: ['notes:read'],
      audiences: ['resource-service'],
    });
    const before = await clientRows();
    const eventsBefore = (await registryEvents()).length;

    const changed = asWritten();
    changed.audiences.push({ id: 'orders-service', description: 'orders' });
    const resourceService = changed.clients[1];
    resourceService.scopes = ['revocations:read'];
    changed.clients.push({
      id: 'orders-service',
      type: 'confidential',
      grantTypes: ['client_credentials'],
      scopes: ['tokens:introspect', 'revocations:read'],
      audiences: ['auth-service'],
      defaultAudiences: ['auth-service'],
    });
    const restarted = await restart(Registry.parse(changed));
    await restarted.close();

    const after = await clientRows();
    const row = (rows: Record<string, unknown>[], id: string) => rows.find((r) => r.id === id);
    expect(row(after, 'resource-service')).toEqual({
      ...row(before, 'resource-service'),
      scopes: ['revocations:read'],
    });
    expect(row(after, 'tessera-first-party')).toEqual(row(before, 'tessera-first-party'));
    expect(row(after, 'reports-service')).toEqual(row(before, 'reports-service'));
    expect(row(after, 'orders-service')).toMatchObject({
      type: 'confidential',
      secret_hash: null,
      audiences: ['auth-service'],
    });
    expect((await registryEvents()).slice(eventsBefore)).toEqual([
      {
        type: 'client.registered',
        detail: expect.objectContaining({ clientId: 'orders-service' }),
      },
      {
        type: 'client.updated',
        detail: {
          clientId: 'resource-service',
          changed: 'scopes',
          scopes: 'revocations:read',
          scopesBefore: 'tokens:introspect revocations:read',
        },
      },
    ]);
  });

  it('takes over the rows the old create-clients migration seeded, as the registry says', async () => {
    // What a database made before the registry holds after the new migration (default_audiences empty).
    await query(`
      UPDATE clients SET scopes = ARRAY['openid', 'email', 'notes:read', 'notes:write'],
                         audiences = ARRAY['resource-service'], default_audiences = '{}'
       WHERE id = 'tessera-first-party'`);
    await query(`
      UPDATE clients SET scopes = ARRAY['tokens:introspect', 'revocations:read'],
                         default_audiences = '{}'
       WHERE id = 'resource-service'`);
    const eventsBefore = (await registryEvents()).length;
    const restarted = await restart();
    await restarted.close();
    const rows = await clientRows();
    for (const client of registryFile.clients) {
      expect(rows.find((row) => row.id === client.id)).toMatchObject({
        type: client.type,
        grant_types: client.grantTypes,
        scopes: client.scopes,
        audiences: client.audiences,
        default_audiences: client.defaultAudiences,
      });
    }
    expect((await registryEvents()).slice(eventsBefore)).toEqual([
      {
        type: 'client.updated',
        detail: {
          clientId: 'resource-service',
          changed: 'defaultAudiences',
          defaultAudiences: 'auth-service',
          defaultAudiencesBefore: '',
        },
      },
      {
        type: 'client.updated',
        detail: {
          clientId: 'tessera-first-party',
          changed: 'scopes audiences defaultAudiences',
          scopes: 'openid email admin notes:read notes:write',
          scopesBefore: 'openid email notes:read notes:write',
          audiences: 'auth-service resource-service',
          audiencesBefore: 'resource-service',
          defaultAudiences: 'resource-service',
          defaultAudiencesBefore: '',
        },
      },
    ]);
  });

  it('refuses to start on an invalid registry, saying what is wrong and where', async () => {
    const invalid = asWritten();
    invalid.clients[0].audiences.push('orders-servce');
    jest.spyOn(Registry, 'load').mockImplementation(() => Registry.parse(invalid));
    await expectRestartRefused(
      'apps/auth-service/registry.json is invalid:\n' +
        '  - clients[0] "tessera-first-party": audiences: "orders-servce" is not a registered audience (auth-service, resource-service); add it to audiences first',
    );
  });

  it('refuses to start when the registry would make a client with a secret public', async () => {
    const invalid = asWritten();
    Object.assign(invalid.clients[1], { type: 'public', grantTypes: ['refresh_token'] });
    const rows = await clientRows();
    await expectRestartRefused(
      'makes resource-service a public client, but it has a secret',
      Registry.parse(invalid),
    );
    expect(await clientRows()).toEqual(rows);
  });
});
