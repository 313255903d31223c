import { createFeatureTestApplication } from '../feature-test-application.spec-helper';
import type { TestApplication } from '@tessera/platform-testing';
import { DataSource } from 'typeorm';
import { AuditEvent } from './audit-event.entity';
import { AuditModule } from './audit.module';
import { AuditService } from './audit.service';

describe('AuditService on real PostgreSQL', () => {
  let service: TestApplication;
  let audit: AuditService;
  let dataSource: DataSource;

  beforeAll(async () => {
    service = await createFeatureTestApplication({ imports: [AuditModule] });
    audit = service.app.get(AuditService);
    dataSource = service.app.get(DataSource);
  });
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
});
