import { createFeatureTestApplication } from '../feature-test-application.spec-helper';
import type { TestApplication } from '@tessera/platform-testing';
import { Clock } from '@tessera/auth-token';
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

  it('refuses to UPDATE an event', async () => {
    await audit.record({ type: 'login.failed', userId: USER_ID });
    await expect(
      dataSource.query(
        `UPDATE audit_events SET type = 'login.succeeded' WHERE type = 'login.failed'`,
      ),
    ).rejects.toThrow('audit_events is append-only: UPDATE is not allowed');
  });

  it('refuses to DELETE an event, and to TRUNCATE the table', async () => {
    await audit.record({ type: 'password.changed', userId: USER_ID });
    await expect(dataSource.query(`DELETE FROM audit_events`)).rejects.toThrow(
      'audit_events is append-only: DELETE is not allowed',
    );
    await expect(dataSource.query(`TRUNCATE audit_events`)).rejects.toThrow(
      'audit_events is append-only: TRUNCATE is not allowed',
    );
    await expect(
      dataSource.getRepository(AuditEvent).countBy({ type: 'password.changed' }),
    ).resolves.toBe(1);
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
      ).rejects.toThrow('audit_events is append-only: DELETE is not allowed');
      await expect(
        dataSource.transaction(async (manager) => {
          await manager.query(`SELECT set_config('tessera.audit_events_prune', 'on', true)`);
          await manager.query(
            `DELETE FROM audit_events WHERE type = 'client.secret_set' AND occurred_at > now() - interval '20 days'`,
          );
        }),
      ).rejects.toThrow('audit_events is append-only: DELETE is not allowed');
      await expect(dataSource.query(`TRUNCATE audit_events`)).rejects.toThrow(
        'audit_events is append-only: TRUNCATE is not allowed',
      );
      expect(await countType('client.secret_set')).toBe(2);
    });
  });
});
