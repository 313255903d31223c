import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { insufficientScope, invalidBearerToken } from '@tessera/auth-resource-server';
import type { Principal } from '@tessera/auth-token';
import { IsNull, Repository } from 'typeorm';
import { TokenIntrospectionClient } from '@tessera/auth-client';
import type { CreateNoteDto } from './dto/create-note.dto';
import type { ListNotesQueryDto } from './dto/list-notes-query.dto';
import type { UpdateNoteDto } from './dto/update-note.dto';
import { decodeNoteCursor, encodeNoteCursor, NOTE_POSITION_SQL } from './note-cursor';
import { noteView } from './note-view';
import type { NotePage, NoteView } from './note-view';
import { Note } from './note.entity';
import { EmptyNoteUpdateException, NoteNotFoundException } from './notes.errors';

const ADMIN_ROLE = 'admin';

/**
 * Notes belong to the principal that created them: the pair (issuer, subject), since a subject
 * is unique only within its issuer. Admins may read every note; nobody writes another's.
 * A note that is not the caller's to see is a 404, the answer for a missing one.
 */
@Injectable()
export class NotesService {
  constructor(
    @InjectRepository(Note) private readonly notes: Repository<Note>,
    private readonly introspection: TokenIntrospectionClient,
  ) {}

  /**
   * Newest first, a keyset page on (created_at, id): a note created or deleted meanwhile never
   * makes another appear twice or go missing, as an offset would.
   */
  async list(principal: Principal, query: ListNotesQueryDto): Promise<NotePage> {
    if (query.all && !isAdmin(principal)) throw insufficientScope({ roles: [ADMIN_ROLE] });
    const after = query.cursor === undefined ? undefined : decodeNoteCursor(query.cursor);
    const select = this.notes
      .createQueryBuilder('note')
      .addSelect(NOTE_POSITION_SQL, 'position')
      .orderBy('note.createdAt', 'DESC')
      .addOrderBy('note.id', 'DESC')
      // One more than asked for tells whether there is a next page without a count.
      .limit(query.limit + 1);
    if (!query.all) {
      select.where('note.ownerIssuer = :issuer AND note.ownerSubject = :subject', {
        issuer: principal.issuer,
        subject: principal.subject,
      });
    }
    select.andWhere('note.hiddenAt IS NULL');
    if (after) {
      select.andWhere(
        '(note.createdAt, note.id) < (CAST(:createdAt AS timestamptz), CAST(:id AS uuid))',
        after,
      );
    }
    // Without joins, raw rows and entities line up one to one.
    const { entities, raw } = await select.getRawAndEntities<{ position: string }>();
    const items = entities.slice(0, query.limit);
    const last = items.at(-1);
    const nextCursor =
      last && entities.length > query.limit
        ? encodeNoteCursor({ createdAt: raw[items.length - 1].position, id: last.id })
        : null;
    return { items: items.map((note) => noteView(note, query.all)), nextCursor };
  }

  async create(principal: Principal, fields: CreateNoteDto): Promise<NoteView> {
    const note = await this.notes.save(
      this.notes.create({ ...ownerOf(principal), title: fields.title, body: fields.body ?? '' }),
    );
    return noteView(note, false);
  }

  async get(principal: Principal, id: string): Promise<NoteView> {
    const note = await this.notes.findOneBy({
      ...(isAdmin(principal) ? { id } : { id, ...ownerOf(principal) }),
      hiddenAt: IsNull(),
    });
    if (!note) throw new NoteNotFoundException();
    return noteView(note, !isOwnedBy(note, principal));
  }

  /** Admins included: the role lets them read others' notes, not change them. */
  async update(principal: Principal, id: string, fields: UpdateNoteDto): Promise<NoteView> {
    const changes: Partial<Pick<Note, 'title' | 'body'>> = {};
    if (fields.title !== undefined) changes.title = fields.title;
    if (fields.body !== undefined) changes.body = fields.body;
    if (Object.keys(changes).length === 0) throw new EmptyNoteUpdateException();

    const mine = { id, ...ownerOf(principal) };
    // The owner is in the UPDATE's WHERE, not checked by a read before it: nothing can change
    // hands in between, and a note deleted meanwhile is never written back.
    const { affected } = await this.notes.update(mine, changes);
    const note = affected ? await this.notes.findOneBy(mine) : null;
    if (!note) throw new NoteNotFoundException();
    return noteView(note, false);
  }

  /**
   * Deletes every note of the caller: the one operation here that asks auth-service first whether
   * the token's session is still live, since a token revoked a minute ago still verifies locally.
   */
  async removeAll(principal: Principal, token: string): Promise<{ deleted: number }> {
    if (!(await this.introspection.isActive(token, principal))) throw invalidBearerToken();
    const { affected } = await this.notes.delete(ownerOf(principal));
    return { deleted: affected ?? 0 };
  }

  /**
   * Hides every note of an owner (an account disabled at its issuer); returns how many. Hiding
   * twice changes nothing, so an event delivered again is harmless.
   */
  async hideAllOf(owner: Pick<Note, 'ownerIssuer' | 'ownerSubject'>): Promise<number> {
    const { affected } = await this.notes.update(
      { ...owner, hiddenAt: IsNull() },
      { hiddenAt: () => 'now()' },
    );
    return affected ?? 0;
  }

  async remove(principal: Principal, id: string): Promise<void> {
    const { affected } = await this.notes.delete({ id, ...ownerOf(principal) });
    if (!affected) throw new NoteNotFoundException();
  }
}

function ownerOf(principal: Principal): Pick<Note, 'ownerIssuer' | 'ownerSubject'> {
  return { ownerIssuer: principal.issuer, ownerSubject: principal.subject };
}

function isOwnedBy(note: Note, principal: Principal): boolean {
  return note.ownerIssuer === principal.issuer && note.ownerSubject === principal.subject;
}

function isAdmin(principal: Principal): boolean {
  return principal.roles.includes(ADMIN_ROLE);
}
