import { createTestApplication } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { resourceServiceConfig } from './config/resource-service.config';
import { Note } from './notes/note.entity';

describe('resource-service on real PostgreSQL', () => {
  let service: TestApplication;
  let dataSource: DataSource;

  beforeAll(async () => {
    service = await createTestApplication(AppModule, resourceServiceConfig);
    dataSource = service.app.get(DataSource);
  });
  afterAll(() => service.close());

  it('is ready once its migrations have run', async () => {
    const response = await fetch(`${service.url}/health/ready`);
    expect(response.status).toBe(200);
    expect(await dataSource.showMigrations()).toBe(false);
  });

  it('stores notes by owner (issuer and subject) and lists them newest first', async () => {
    const notes = dataSource.getRepository(Note);
    const owner = { ownerIssuer: 'http://127.0.0.1:3001', ownerSubject: 'user-1' };
    await notes.save(notes.create({ ...owner, title: 'first' }));
    await notes.save(notes.create({ ...owner, title: 'second', body: 'text' }));
    await notes.save(notes.create({ ...owner, ownerSubject: 'user-2', title: 'not mine' }));

    const mine = await notes.find({ where: owner, order: { createdAt: 'DESC' } });
    expect(mine.map((note) => note.title)).toEqual(['second', 'first']);
    expect(mine[1]?.body).toBe('');
  });

  it('refuses a title longer than 200 characters', async () => {
    const notes = dataSource.getRepository(Note);
    await expect(
      notes.save(notes.create({ ownerIssuer: 'i', ownerSubject: 's', title: 'x'.repeat(201) })),
    ).rejects.toThrow(/too long/);
  });
});
