import { TestIssuer } from '@tessera/auth-testing';
import { createTestApplication } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppModule } from '../app.module';
import { resourceServiceConfig } from '../config/resource-service.config';

interface NoteJson {
  id: string;
  title: string;
  body: string;
  createdAt: string;
  updatedAt: string;
  owner?: { issuer: string; subject: string };
}

interface PageJson {
  items: NoteJson[];
  nextCursor: string | null;
}

interface Reply<T> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

interface CallOptions {
  token?: string;
  body?: unknown;
  /** Sent as is, with a JSON content type: for what JSON.stringify cannot produce. */
  rawBody?: string;
}

type Call = <T = Record<string, unknown>>(
  method: string,
  path: string,
  options?: CallOptions,
) => Promise<Reply<T>>;

function client(service: TestApplication): Call {
  return async <T>(method: string, path: string, options: CallOptions = {}) => {
    const headers: Record<string, string> = {};
    const body =
      options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    const response = await fetch(`${service.url}${path}`, { method, headers, body });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text,
      body: (text ? JSON.parse(text) : {}) as T,
    };
  };
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BOTH_SCOPES = 'notes:read notes:write';
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('notes over HTTP', () => {
  let issuer: TestIssuer;
  let service: TestApplication;
  let dataSource: DataSource;
  let call: Call;

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: 'resource-service' });
    service = await createTestApplication(AppModule, resourceServiceConfig, {
      AUTH_ISSUER: issuer.issuer,
      AUTH_AUDIENCE: 'resource-service',
    });
    dataSource = service.app.get(DataSource);
    call = client(service);
  });
  afterAll(async () => {
    await service.close();
    await issuer.stop();
  });

  /** A new person, unknown to every other test. */
  function person(options: { roles?: string[]; scope?: string } = {}) {
    const subject = randomUUID();
    const token = issuer.accessToken({
      sub: subject,
      scope: options.scope ?? BOTH_SCOPES,
      roles: options.roles ?? [],
    });
    return { subject, token };
  }

  async function createNote(token: string, title = 'a note', body?: string): Promise<NoteJson> {
    const reply = await call<NoteJson>('POST', '/notes', { token, body: { title, body } });
    expect(reply.status).toBe(201);
    return reply.body;
  }

  async function read(token: string, id: string): Promise<Reply<NoteJson>> {
    return call<NoteJson>('GET', `/notes/${id}`, { token });
  }

  /** Every page of a listing, following nextCursor until it is null. */
  async function walk(token: string, query: string): Promise<NoteJson[][]> {
    const pages: NoteJson[][] = [];
    let cursor: string | null = null;
    do {
      const path = `/notes?${query}${cursor === null ? '' : `&cursor=${cursor}`}`;
      const reply: Reply<PageJson> = await call<PageJson>('GET', path, { token });
      expect(reply.status).toBe(200);
      pages.push(reply.body.items);
      cursor = reply.body.nextCursor;
    } while (cursor !== null && pages.length < 100);
    return pages;
  }

  /** The ids of a subject's notes in the order the API promises, straight from the table. */
  async function storedOrder(subject: string): Promise<string[]> {
    const rows: { id: string }[] = await dataSource.query(
      `SELECT id FROM notes WHERE owner_issuer = $1 AND owner_subject = $2
        ORDER BY created_at DESC, id DESC`,
      [issuer.issuer, subject],
    );
    return rows.map((row) => row.id);
  }

  describe('access', () => {
    const routes: [string, string, string][] = [
      ['GET', '/notes', 'notes:read'],
      ['POST', '/notes', 'notes:write'],
      ['GET', '/notes/:id', 'notes:read'],
      ['PATCH', '/notes/:id', 'notes:write'],
      ['DELETE', '/notes/:id', 'notes:write'],
    ];
    const bodyFor = (method: string) =>
      method === 'POST' || method === 'PATCH' ? { title: 'changed' } : undefined;
    let owner: ReturnType<typeof person>;
    let note: NoteJson;

    beforeAll(async () => {
      owner = person();
      note = await createNote(owner.token, 'guarded');
    });

    /** The refused request changed nothing: the note is as it was and no other was made. */
    async function expectNothingChanged() {
      expect((await read(owner.token, note.id)).body).toEqual(note);
      expect(await storedOrder(owner.subject)).toEqual([note.id]);
    }

    it.each(routes)(
      'refuses %s %s without a token, with a bare Bearer challenge',
      async (method, path) => {
        const reply = await call(method, path.replace(':id', note.id), { body: bodyFor(method) });
        expect(reply.status).toBe(401);
        expect(reply.headers.get('www-authenticate')).toBe('Bearer');
        await expectNothingChanged();
      },
    );

    it.each(routes)(
      'refuses %s %s to a token without %s, with 403 insufficient_scope naming it',
      async (method, path, scope) => {
        const otherScope = BOTH_SCOPES.split(' ').filter((name) => name !== scope);
        const token = issuer.accessToken({ sub: owner.subject, scope: otherScope.join(' ') });
        const reply = await call(method, path.replace(':id', note.id), {
          token,
          body: bodyFor(method),
        });
        expect(reply.status).toBe(403);
        expect(reply.headers.get('www-authenticate')).toBe(
          `Bearer error="insufficient_scope", scope="${scope}"`,
        );
        expect(reply.body).toMatchObject({ error: 'insufficient_scope' });
        await expectNothingChanged();
      },
    );
  });

  describe('for the owner', () => {
    it('creates a note with a trimmed title and an empty body, and reads it back', async () => {
      const { token } = person();
      const created = await call<NoteJson>('POST', '/notes', {
        token,
        body: { title: '  Groceries \n' },
      });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(UUID),
        title: 'Groceries',
        body: '',
        createdAt: expect.stringMatching(ISO_TIME),
        updatedAt: created.body.createdAt,
      });
      const fetched = await read(token, created.body.id);
      expect(fetched.status).toBe(200);
      expect(fetched.body).toEqual(created.body);
    });

    it('keeps the body exactly as sent, surrounding spaces and newlines included', async () => {
      const { token } = person();
      const body = '  indented\n\tand tabbed  \n';
      expect((await createNote(token, 'Poem', body)).body).toBe(body);
    });

    it('changes only the fields sent, keeps createdAt and moves updatedAt', async () => {
      const { token } = person();
      const created = await createNote(token, 'Draft', 'first words');

      const bodyChanged = await call<NoteJson>('PATCH', `/notes/${created.id}`, {
        token,
        body: { body: 'second words' },
      });
      expect(bodyChanged.status).toBe(200);
      expect(bodyChanged.body).toEqual({
        ...created,
        body: 'second words',
        updatedAt: expect.stringMatching(ISO_TIME),
      });
      const [{ moved }]: { moved: boolean }[] = await dataSource.query(
        'SELECT updated_at > created_at AS moved FROM notes WHERE id = $1',
        [created.id],
      );
      expect(moved).toBe(true);

      const titleChanged = await call<NoteJson>('PATCH', `/notes/${created.id}`, {
        token,
        body: { title: ' Final ' },
      });
      expect(titleChanged.body).toMatchObject({ title: 'Final', body: 'second words' });
      expect((await read(token, created.id)).body).toEqual(titleChanged.body);
    });

    it('deletes a note with 204 and no body, after which it is not found', async () => {
      const { token } = person();
      const note = await createNote(token);
      const deleted = await call('DELETE', `/notes/${note.id}`, { token });
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe('');
      expect((await read(token, note.id)).status).toBe(404);
      expect((await call('DELETE', `/notes/${note.id}`, { token })).status).toBe(404);
    });

    it("lists only the caller's own notes, newest first, without owners", async () => {
      const me = person();
      const someoneElse = person();
      const first = await createNote(me.token, 'first');
      await createNote(someoneElse.token, 'not mine');
      const second = await createNote(me.token, 'second');
      const third = await createNote(me.token, 'third');

      const reply = await call<PageJson>('GET', '/notes', { token: me.token });
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ items: [third, second, first], nextCursor: null });
    });
  });

  describe("another user's note", () => {
    it('is not found for get, patch and delete, exactly like a missing note, and stays untouched', async () => {
      const owner = person();
      const stranger = person();
      const note = await createNote(owner.token, 'private', 'secret');
      const missing = randomUUID();

      for (const [method, body] of [
        ['GET', undefined],
        ['PATCH', { title: 'mine now' }],
        ['DELETE', undefined],
      ] as const) {
        const theirs = await call(method, `/notes/${note.id}`, { token: stranger.token, body });
        const absent = await call(method, `/notes/${missing}`, { token: stranger.token, body });
        expect(theirs.status).toBe(404);
        expect(theirs.body).toEqual({ ...absent.body, requestId: theirs.body['requestId'] });
        expect(theirs.body).toMatchObject({ error: 'note_not_found' });
      }
      expect((await read(owner.token, note.id)).body).toEqual(note);
    });

    it('is not found for patch and delete even to an admin, and stays untouched', async () => {
      const owner = person();
      const admin = person({ roles: ['user', 'admin'] });
      const note = await createNote(owner.token, 'private', 'secret');

      const patched = await call('PATCH', `/notes/${note.id}`, {
        token: admin.token,
        body: { body: 'edited by an admin' },
      });
      expect(patched.status).toBe(404);
      expect((await call('DELETE', `/notes/${note.id}`, { token: admin.token })).status).toBe(404);
      expect((await read(owner.token, note.id)).body).toEqual(note);
    });
  });

  describe('as an admin', () => {
    it("reads another owner's note, with its owner", async () => {
      const owner = person();
      const admin = person({ roles: ['admin'] });
      const note = await createNote(owner.token, 'theirs');
      const reply = await read(admin.token, note.id);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({
        ...note,
        owner: { issuer: issuer.issuer, subject: owner.subject },
      });
    });

    it('reads its own note without an owner, as anyone does', async () => {
      const admin = person({ roles: ['admin'] });
      const note = await createNote(admin.token, 'mine');
      expect((await read(admin.token, note.id)).body).toEqual(note);
    });

    it("lists every owner's notes with all=true, each with its owner", async () => {
      const admin = person({ roles: ['admin'] });
      const alice = person();
      const bob = person();
      const alices = await createNote(alice.token, 'alice');
      const bobs = await createNote(bob.token, 'bob');
      const admins = await createNote(admin.token, 'admin');

      const listed = (await walk(admin.token, 'all=true&limit=100')).flat();
      const ownerOf = (subject: string) => ({ issuer: issuer.issuer, subject });
      expect(listed).toEqual(
        expect.arrayContaining([
          { ...alices, owner: ownerOf(alice.subject) },
          { ...bobs, owner: ownerOf(bob.subject) },
          { ...admins, owner: ownerOf(admin.subject) },
        ]),
      );
      expect(listed.every((note) => note.owner !== undefined)).toBe(true);
      expect(new Set(listed.map((note) => note.id)).size).toBe(listed.length);
      const [{ count }]: { count: number }[] = await dataSource.query(
        'SELECT count(*)::int AS count FROM notes',
      );
      expect(listed).toHaveLength(count);
    });

    it('lists only its own notes without all=true', async () => {
      const admin = person({ roles: ['admin'] });
      const note = await createNote(admin.token, 'mine');
      await createNote(person().token, 'theirs');
      const reply = await call<PageJson>('GET', '/notes?all=false', { token: admin.token });
      expect(reply.body).toEqual({ items: [note], nextCursor: null });
    });

    it('refuses all=true to a user without the admin role with 403 insufficient_scope', async () => {
      const { token } = person({ roles: ['user'] });
      const reply = await call('GET', '/notes?all=true', { token });
      expect(reply.status).toBe(403);
      expect(reply.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
      expect(reply.body).toMatchObject({
        error: 'insufficient_scope',
        message: 'This needs the role admin',
      });
      expect((await call('GET', '/notes?all=false', { token })).status).toBe(200);
    });
  });

  describe('pagination', () => {
    it('walks 25 notes 10 at a time: each once, newest first, with no cursor after the last page', async () => {
      const { subject, token } = person();
      const titles: string[] = [];
      for (let index = 1; index <= 25; index += 1) {
        titles.push(`note ${index}`);
        await createNote(token, `note ${index}`);
      }

      const pages = await walk(token, 'limit=10');
      expect(pages.map((page) => page.length)).toEqual([10, 10, 5]);
      const ids = pages.flat().map((note) => note.id);
      expect(new Set(ids).size).toBe(25);
      expect(ids).toEqual(await storedOrder(subject));
      expect(pages.flat().map((note) => note.title)).toEqual(titles.reverse());
    });

    it('answers 20 notes by default', async () => {
      const { token } = person();
      for (let index = 0; index < 21; index += 1) await createNote(token);
      const reply = await call<PageJson>('GET', '/notes', { token });
      expect(reply.body.items).toHaveLength(20);
      expect(reply.body.nextCursor).toEqual(expect.any(String));
    });

    it('pages exactly through notes created in the same microsecond and the same millisecond', async () => {
      const { subject, token } = person();
      // 25 notes within one millisecond, three to a microsecond: only the microseconds and then
      // the id tell them apart.
      await dataSource.query(
        `INSERT INTO notes (owner_issuer, owner_subject, title, created_at, updated_at)
         SELECT $1, $2, 'tied ' || n,
                timestamptz '2026-01-01T00:00:00.000Z' + (n / 3) * interval '1 microsecond',
                now()
           FROM generate_series(1, 25) AS n`,
        [issuer.issuer, subject],
      );
      const expected = await storedOrder(subject);
      for (const limit of [1, 2, 4, 10]) {
        const ids = (await walk(token, `limit=${limit}`)).flat().map((note) => note.id);
        expect(ids).toEqual(expected);
      }
    });

    it('goes on from where it stopped when the last note of a page is deleted meanwhile', async () => {
      const { token } = person();
      const [first, second, third, fourth] = [
        await createNote(token, '1'),
        await createNote(token, '2'),
        await createNote(token, '3'),
        await createNote(token, '4'),
      ];
      const page = await call<PageJson>('GET', '/notes?limit=2', { token });
      expect(page.body.items).toEqual([fourth, third]);
      expect((await call('DELETE', `/notes/${third.id}`, { token })).status).toBe(204);

      const next = await call<PageJson>('GET', `/notes?limit=2&cursor=${page.body.nextCursor}`, {
        token,
      });
      expect(next.body).toEqual({ items: [second, first], nextCursor: null });
    });

    it('never repeats a note on a later page when a newer one is created meanwhile', async () => {
      const { token } = person();
      const first = await createNote(token, '1');
      const second = await createNote(token, '2');
      const third = await createNote(token, '3');
      const page = await call<PageJson>('GET', '/notes?limit=2', { token });
      expect(page.body.items).toEqual([third, second]);
      await createNote(token, 'newer');

      const next = await call<PageJson>('GET', `/notes?limit=2&cursor=${page.body.nextCursor}`, {
        token,
      });
      expect(next.body).toEqual({ items: [first], nextCursor: null });
    });
  });

  describe('bad input', () => {
    const uuid = randomUUID();
    const instant = '2026-01-01T00:00:00.000000Z';

    it.each([
      ['limit=0', 'limit must be at least 1'],
      ['limit=101', 'limit must be at most 100'],
      ['limit=abc', 'limit must be a whole number'],
      ['limit=1.5', 'limit must be a whole number'],
      ['all=yes', 'all must be true or false'],
      ['page=2', 'property page should not exist'],
      ['cursor=a&cursor=b', 'cursor must be given once'],
      [`cursor=${'A'.repeat(201)}`, 'cursor must be at most 200 characters long'],
      ['cursor=', 'cursor must be the nextCursor of a previous page'],
      ['cursor=not-a-cursor', 'cursor must be the nextCursor of a previous page'],
      ['cursor=%21%21%21%21', 'cursor must be the nextCursor of a previous page'],
      [`cursor=${cursorOf([instant, uuid])}%3D%3D`, 'cursor must be the nextCursor'],
      [`cursor=${cursorOf({ createdAt: instant, id: uuid })}`, 'cursor must be the nextCursor'],
      [`cursor=${cursorOf([instant, 'not-a-uuid'])}`, 'cursor must be the nextCursor'],
      [`cursor=${cursorOf(['2026-01-01T00:00:00.000Z', uuid])}`, 'cursor must be the nextCursor'],
      [
        `cursor=${cursorOf(['2026-02-30T00:00:00.000000Z', uuid])}`,
        'cursor must be the nextCursor',
      ],
      [
        `cursor=${cursorOf(['2026-01-01T24:00:00.000000Z', uuid])}`,
        'cursor must be the nextCursor',
      ],
      [
        `cursor=${cursorOf(['0000-01-01T00:00:00.000000Z', uuid])}`,
        'cursor must be the nextCursor',
      ],
    ])('refuses GET /notes?%s with 400: %s', async (query, message) => {
      const reply = await call('GET', `/notes?${query}`, { token: person().token });
      expect(reply.status).toBe(400);
      expect(String(reply.body['message'])).toContain(message);
    });

    it('accepts any well-formed position as a cursor: it only says where to start', async () => {
      const { token } = person();
      const note = await createNote(token);
      const cursor = cursorOf(['9999-12-31T23:59:59.999999Z', uuid]);
      const reply = await call<PageJson>('GET', `/notes?cursor=${cursor}`, { token });
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ items: [note], nextCursor: null });
    });

    it.each([
      ['an unknown field', { title: 'x', pinned: true }, 'property pinned should not exist'],
      ['an owner', { title: 'x', ownerSubject: 'root' }, 'property ownerSubject should not exist'],
      ['no title', { body: 'x' }, 'title must be a string of 1 to 200 characters'],
      ['a null title', { title: null }, 'title must be a string of 1 to 200 characters'],
      ['a number as title', { title: 7 }, 'title must be a string of 1 to 200 characters'],
      ['a title of spaces', { title: '  \t ' }, 'title must not be empty'],
      ['a title of 201 characters', { title: 'x'.repeat(201) }, 'title must be at most 200'],
      // 101 characters to class-validator's Length, 202 to PostgreSQL's varchar(200).
      ['a title of 101 "❤️"', { title: '❤️'.repeat(101) }, 'title must be at most 200'],
      ['a title with NUL', { title: 'a\u0000b' }, 'title must not contain the NUL character'],
      ['an unpaired surrogate', { title: 'a\ud800b' }, 'title must be well-formed Unicode'],
      ['a null body', { title: 'x', body: null }, 'body must be a string of at most 10000'],
      [
        'a body of 10001 characters',
        { title: 'x', body: 'x'.repeat(10_001) },
        'body must be at most 10000',
      ],
      [
        'a body with NUL',
        { title: 'x', body: '\u0000' },
        'body must not contain the NUL character',
      ],
      ['a list for a body', [{ title: 'x' }], 'should not exist'],
    ])('refuses a new note with %s with 400, storing nothing', async (_case, body, message) => {
      const { subject, token } = person();
      const reply = await call('POST', '/notes', { token, body });
      expect(reply.status).toBe(400);
      expect(String(reply.body['message'])).toContain(message);
      expect(await storedOrder(subject)).toEqual([]);
    });

    it('refuses malformed JSON with 400', async () => {
      const reply = await call('POST', '/notes', { token: person().token, rawBody: '{"title":' });
      expect(reply.status).toBe(400);
    });

    it('takes a title and a body of exactly the longest length, counted in characters', async () => {
      const { token } = person();
      // 200 characters that are 400 UTF-16 code units.
      const title = '😀'.repeat(200);
      const body = 'é'.repeat(10_000);
      expect(await createNote(token, title, body)).toMatchObject({ title, body });
    });

    it.each([
      ['nothing', {}, 'Send title, body or both to change a note'],
      ['a null title', { title: null }, 'title must be a string of 1 to 200 characters'],
      ['an empty title', { title: '' }, 'title must not be empty'],
      ['a null body', { body: null }, 'body must be a string of at most 10000'],
      ['a title of 201 characters', { title: 'x'.repeat(201) }, 'title must be at most 200'],
      ['an unknown field', { title: 'x', pinned: true }, 'property pinned should not exist'],
    ])('refuses a change with %s with 400, changing nothing', async (_case, body, message) => {
      const { token } = person();
      const note = await createNote(token, 'unchanged', 'as it was');
      const reply = await call('PATCH', `/notes/${note.id}`, { token, body });
      expect(reply.status).toBe(400);
      expect(String(reply.body['message'])).toContain(message);
      expect((await read(token, note.id)).body).toEqual(note);
    });

    it.each([
      ['GET', 'not-a-uuid'],
      ['PATCH', 'not-a-uuid'],
      ['DELETE', 'not-a-uuid'],
      ['GET', '123'],
      ['GET', `${randomUUID()}x`],
    ])('refuses %s /notes/%s with 400: id must be a UUID', async (method, id) => {
      const body = method === 'PATCH' ? { title: 'x' } : undefined;
      const reply = await call(method, `/notes/${id}`, { token: person().token, body });
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ error: 'invalid_note_id', message: 'id must be a UUID' });
    });
  });

  describe('ownership', () => {
    // One process cannot run a second resource-service trusting another issuer (passport keeps
    // one strategy per name for the whole process), so that issuer's note is made in SQL.
    const elsewhere = 'https://another-issuer.example';

    it('is the issuer and the subject: the same subject at another issuer is someone else', async () => {
      const { subject, token } = person();
      const mine = await createNote(token, 'from this issuer');
      const [{ id: theirId }]: { id: string }[] = await dataSource.query(
        `INSERT INTO notes (owner_issuer, owner_subject, title, body)
         VALUES ($1, $2, 'from another issuer', 'theirs') RETURNING id`,
        [elsewhere, subject],
      );

      expect((await call<PageJson>('GET', '/notes', { token })).body).toEqual({
        items: [mine],
        nextCursor: null,
      });
      for (const [method, body] of [
        ['GET', undefined],
        ['PATCH', { title: 'taken over' }],
        ['DELETE', undefined],
      ] as const) {
        expect((await call(method, `/notes/${theirId}`, { token, body })).status).toBe(404);
      }

      const rows: { owner_issuer: string; title: string; body: string }[] = await dataSource.query(
        'SELECT owner_issuer, title, body FROM notes WHERE owner_subject = $1 ORDER BY title',
        [subject],
      );
      expect(rows).toEqual([
        { owner_issuer: elsewhere, title: 'from another issuer', body: 'theirs' },
        { owner_issuer: issuer.issuer, title: 'from this issuer', body: '' },
      ]);
    });

    it('tells an admin which issuer each note comes from', async () => {
      const { subject, token } = person();
      await createNote(token, 'here');
      await dataSource.query(
        `INSERT INTO notes (owner_issuer, owner_subject, title) VALUES ($1, $2, 'there')`,
        [elsewhere, subject],
      );
      const admin = person({ roles: ['admin'] });
      const listed = (await walk(admin.token, 'all=true&limit=100')).flat();
      expect(
        listed
          .filter((note) => note.owner?.subject === subject)
          .map((note) => [note.title, note.owner?.issuer]),
      ).toEqual([
        ['there', elsewhere],
        ['here', issuer.issuer],
      ]);
    });
  });
});
