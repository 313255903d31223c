import { createFeatureTestApplication } from '../feature-test-application.spec-helper';
import {
  createLeastPrivilegeTestDatabase,
  TEST_POSTGRES_URL_VARIABLE,
} from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { Clock } from '@tessera/auth-token';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AuditEvent } from './audit-event.entity';
import { AuditModule } from './audit.module';
import { AuditService } from './audit.service';

describe('AuditService on real PostgreSQL', () => {
  let service: TestApplication;
  let audit: AuditService;
  let dataSource: DataSource;
  let now: Date;
  const LIMIT = 10;

  beforeAll(async () => {
    service = await createFeatureTestApplication(
      { imports: [AuditModule] },
      { AUDIT_UNAUTHENTICATED_LIMIT: String(LIMIT), AUDIT_RETENTION: '365' },
    );
    audit = service.app.get(AuditService);
    dataSource = service.app.get(DataSource);
    jest.spyOn(service.app.get(Clock), 'now').mockImplementation(() => now);
  });
  beforeEach(() => (now = new Date('2030-01-01T12:00:10Z')));
  afterAll(() => service.close());

  const USER_ID = '6f1c2a4e-8a0b-4c1d-9e2f-3a4b5c6d7e8f';
  const SESSION_ID = '0d9e8f7a-6b5c-4d3e-8f1a-2b3c4d5e6f70';

  it('stores an event with every field it was given', async () => {
    await audit.record({
      type: 'session.revoked',
      userId: USER_ID,
      sessionId: SESSION_ID,
      clientAddress: '192.0.2.7',
      userAgent: 'curl/8',
      detail: { reason: 'logout_all', count: 3 },
    });
    const [event] = await dataSource.getRepository(AuditEvent).findBy({ sessionId: SESSION_ID });
    expect(event).toMatchObject({
      type: 'session.revoked',
      userId: USER_ID,
      clientAddress: '192.0.2.7',
      userAgent: 'curl/8',
      detail: { reason: 'logout_all', count: 3 },
    });
    expect(event.occurredAt).toBeInstanceOf(Date);
  });

  it('stores an event with nothing but its type, the rest null', async () => {
    await audit.record({ type: 'key.rotated' });
    const [event] = await dataSource.getRepository(AuditEvent).findBy({ type: 'key.rotated' });
    expect(event).toMatchObject({
      userId: null,
      sessionId: null,
      clientAddress: null,
      userAgent: null,
      detail: null,
    });
  });

  it('cuts a hostile User-Agent down to 512 characters', async () => {
    await audit.record({ type: 'logout', userId: USER_ID, userAgent: 'A'.repeat(10_000) });
    const [event] = await dataSource.getRepository(AuditEvent).findBy({ type: 'logout' });
    expect(event.userAgent).toHaveLength(512);
  });

  it('stores a NUL a caller sent (a client id in a form) as U+FFFD instead of failing', async () => {
    await audit.record({
      type: 'client.authentication_failed',
      clientAddress: '203.0.113.9',
      userAgent: 'agent\u0000',
      detail: { client_id: '\u0000evil' },
    });
    const [row] = await dataSource.query(
      `SELECT user_agent, detail FROM audit_events WHERE client_address = '203.0.113.9'`,
    );
    expect(row).toEqual({ user_agent: 'agent\ufffd', detail: { client_id: '\ufffdevil' } });
  });

  describe("as the service's own database role (docs/security-model.md, Database roles)", () => {
    it('cannot UPDATE, DELETE or TRUNCATE the audit log', async () => {
      await audit.record({ type: 'password.changed', userId: USER_ID });
      for (const attack of [
        `UPDATE audit_events SET type = 'login.succeeded' WHERE type = 'password.changed'`,
        `DELETE FROM audit_events`,
        `TRUNCATE audit_events`,
      ]) {
        await expect(dataSource.query(attack)).rejects.toThrow(
          'permission denied for table audit_events',
        );
      }
      await expect(
        dataSource.getRepository(AuditEvent).countBy({ type: 'password.changed' }),
      ).resolves.toBe(1);
    });

    it('cannot switch off, drop or replace the append-only trigger, nor change the table', async () => {
      for (const attack of [
        `ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_or_delete`,
        `ALTER TABLE audit_events DISABLE TRIGGER ALL`,
        `DROP TRIGGER audit_events_no_update_or_delete ON audit_events`,
        `DROP TABLE audit_events`,
        `ALTER TABLE audit_events DROP CONSTRAINT audit_events_type_known`,
        `ALTER TABLE audit_events OWNER TO CURRENT_USER`,
      ]) {
        await expect(dataSource.query(attack)).rejects.toThrow(
          /must be owner of (table|relation) audit_events/,
        );
      }
      // CREATE OR REPLACE needs CREATE on the schema before it looks at the owner.
      await expect(
        dataSource.query(
          `CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$`,
        ),
      ).rejects.toThrow('permission denied for schema public');
      await expect(
        dataSource.query(`ALTER FUNCTION audit_events_prune(integer) SECURITY INVOKER`),
      ).rejects.toThrow('must be owner of function audit_events_prune');
      await expect(dataSource.query(`SET session_replication_role = replica`)).rejects.toThrow(
        'permission denied to set parameter "session_replication_role"',
      );
      await expect(dataSource.query(`CREATE TABLE audit_events_copy (id uuid)`)).rejects.toThrow(
        'permission denied for schema public',
      );
      const [{ n }] = await dataSource.query(
        `SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal AND tgenabled = 'O'`,
      );
      expect(n).toBe(2);
    });

    it('is no superuser, makes no role or database, and runs no program', async () => {
      const [role] = await dataSource.query(
        `SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = current_user`,
      );
      expect(role).toEqual({
        rolsuper: false,
        rolcreaterole: false,
        rolcreatedb: false,
        rolbypassrls: false,
      });
      await expect(dataSource.query(`CREATE ROLE intruder LOGIN SUPERUSER`)).rejects.toThrow(
        'permission denied to create role',
      );
      await expect(dataSource.query(`CREATE DATABASE intruder`)).rejects.toThrow(
        'permission denied to create database',
      );
      await expect(dataSource.query(`COPY (SELECT 1) TO PROGRAM 'id'`)).rejects.toThrow(
        /permission denied to COPY to or from an external program/,
      );
      await expect(
        dataSource.query(`INSERT INTO migrations (timestamp, name) VALUES (1, 'x')`),
      ).rejects.toThrow('permission denied for table migrations');
    });

    it("cannot even connect to another service's database, nor another service's role to this one", async () => {
      const other = await createLeastPrivilegeTestDatabase('resource');
      const ownUrl = new URL(service.databaseUrl);
      const intoOther = new URL(other.url);
      intoOther.username = ownUrl.username;
      intoOther.password = ownUrl.password;
      const intoOwn = new URL(service.databaseUrl);
      intoOwn.username = new URL(other.url).username;
      intoOwn.password = new URL(other.url).password;
      for (const url of [intoOther, intoOwn]) {
        const client = new Client({ connectionString: url.toString() });
        await expect(client.connect()).rejects.toThrow(/permission denied for database/);
      }
    });

    it('still has the trigger refuse what even the owner tries', async () => {
      await audit.record({ type: 'password.changed', userId: USER_ID });
      const asAdmin = new URL(process.env[TEST_POSTGRES_URL_VARIABLE] as string);
      asAdmin.pathname = new URL(service.databaseUrl).pathname;
      const admin = new Client({ connectionString: asAdmin.toString() });
      await admin.connect();
      try {
        await expect(
          admin.query(`UPDATE audit_events SET type = 'login.succeeded'`),
        ).rejects.toThrow('audit_events is append-only: UPDATE is not allowed');
        await expect(admin.query(`DELETE FROM audit_events`)).rejects.toThrow(
          'audit_events is append-only: DELETE is not allowed',
        );
        await expect(admin.query(`TRUNCATE audit_events`)).rejects.toThrow(
          'audit_events is append-only: TRUNCATE is not allowed',
        );
        // The pruning function's switch lets through only rows older than 30 days.
        await admin.query('BEGIN');
        await admin.query(`SELECT set_config('tessera.audit_events_prune', 'on', true)`);
        await expect(admin.query(`DELETE FROM audit_events`)).rejects.toThrow(
          'audit_events is append-only: DELETE is not allowed',
        );
        await admin.query('ROLLBACK');
      } finally {
        await admin.end();
      }
    });
  });

  it('refuses an event type the code does not know', async () => {
    await expect(
      dataSource.query(`INSERT INTO audit_events (type) VALUES ('made.up')`),
    ).rejects.toThrow(/audit_events_type_known/);
  });
  describe('against a flood of unauthenticated events', () => {
    const count = (type: string, clientAddress: string) =>
      dataSource.getRepository(AuditEvent).countBy({ type: type as never, clientAddress });

    it('writes at most the limit per minute, type and address, and one summary row for the rest', async () => {
      for (let i = 0; i < 25; i++) {
        await audit.record({
          type: 'client.authentication_failed',
          clientAddress: '198.51.100.9',
          detail: { endpoint: 'token' },
        });
      }
      await audit.record({ type: 'client.authentication_failed', clientAddress: '198.51.100.10' });
      await audit.record({ type: 'introspection.denied', clientAddress: '198.51.100.9' });
      expect(await count('client.authentication_failed', '198.51.100.9')).toBe(LIMIT);
      expect(await count('client.authentication_failed', '198.51.100.10')).toBe(1);
      expect(await count('introspection.denied', '198.51.100.9')).toBe(1);

      expect(await audit.summarise()).toBe(0); // the minute is not over yet
      now = new Date('2030-01-01T12:01:00Z');
      expect(await audit.summarise()).toBe(1);
      const summaries = await dataSource
        .getRepository(AuditEvent)
        .findBy({ type: 'audit.suppressed' as never, clientAddress: '198.51.100.9' });
      expect(summaries.map((event) => event.detail)).toEqual([
        {
          type: 'client.authentication_failed',
          suppressed: 25 - LIMIT,
          minute: '2030-01-01T12:00Z',
        },
      ]);
      expect(await audit.summarise()).toBe(0); // summarised once only
      expect(await dataSource.query(`SELECT count(*)::int AS n FROM audit_rate`)).toEqual([
        { n: 0 },
      ]);
    });

    it('counts a whole IPv6 /64 as one address, and never limits events with a credential', async () => {
      for (let i = 0; i < 2 * LIMIT; i++) {
        await audit.record({ type: 'login.failed', clientAddress: `2001:db8:9:9::${i + 1}` });
        await audit.record({ type: 'logout', userId: USER_ID, clientAddress: '2001:db8:9:9::1' });
      }
      const [{ n }] = await dataSource.query(
        `SELECT count(*)::int AS n FROM audit_events WHERE type = 'login.failed' AND client_address LIKE '2001:db8:9:9::%'`,
      );
      expect(n).toBe(LIMIT);
      expect(await count('logout', '2001:db8:9:9::1')).toBe(2 * LIMIT);
    });
  });

  describe('retention', () => {
    async function insertAged(days: number, type: string): Promise<void> {
      await dataSource.query(
        `INSERT INTO audit_events (type, occurred_at) VALUES ($1, now() - make_interval(days => $2))`,
        [type, days],
      );
    }
    const countType = (type: string) =>
      dataSource.getRepository(AuditEvent).countBy({ type: type as never });

    it('prunes rows older than AUDIT_RETENTION days through the schema, with the trigger in place', async () => {
      
      await insertAged(400, 'key.rotated');
      await insertAged(366, 'key.rotated');
      await insertAged(100, 'client.updated');
      await insertAged(0, 'client.registered');
      const before = await countType('key.rotated');

      expect(await audit.prune()).toBe(2);
      expect(await countType('key.rotated')).toBe(before - 2);
      expect(await countType('client.updated')).toBe(1);
      expect(await countType('client.registered')).toBe(1);
      const [{ n }] = await dataSource.query(
        `SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal`,
      );
      expect(n).toBe(2);
    });

    it('never lets a row younger than 30 days go, nor a DELETE outside the pruning function', async () => {
      await insertAged(10, 'client.secret_set');
      await insertAged(40, 'client.secret_set');
      await expect(dataSource.query(`SELECT audit_events_prune(10)`)).rejects.toThrow(
        'audit_events keeps every row for at least 30 days, not 10',
      );
      await expect(
        dataSource.query(`DELETE FROM audit_events WHERE type = 'client.secret_set'`),
      ).rejects.toThrow('permission denied for table audit_events');
      await expect(
        dataSource.transaction(async (manager) => {
          await manager.query(`SELECT set_config('tessera.audit_events_prune', 'on', true)`);
          await manager.query(
            `DELETE FROM audit_events WHERE type = 'client.secret_set' AND occurred_at < now() - interval '30 days'`,
          );
        }),
      ).rejects.toThrow('permission denied for table audit_events');
      expect(await countType('client.secret_set')).toBe(2);
    });
  });
});
