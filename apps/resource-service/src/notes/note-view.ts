import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Note } from './note.entity';

export class NoteOwner {
  @ApiProperty({ description: "The owner's token issuer (`iss`)" })
  issuer!: string;

  @ApiProperty({ description: "The owner's subject (`sub`) at that issuer" })
  subject!: string;
}

/**
 * A note as the API answers it. `owner` is there exactly when the note may not be the caller's:
 * on every item of `GET /notes?all=true` (the admin's own included, so the list is uniform) and
 * when an admin reads another owner's note. A caller's own notes never carry it: they know who
 * they are.
 */
export class NoteView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'my first note' })
  title!: string;

  @ApiProperty({ example: '' })
  body!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;

  @ApiPropertyOptional({ type: NoteOwner, description: "Only where the note may be another's" })
  owner?: NoteOwner;
}

export class NotePage {
  @ApiProperty({ type: [NoteView], description: 'Newest first' })
  items!: NoteView[];

  /** Pass as `cursor` for the next page; null on the last page. */
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page; null on the last page',
  })
  nextCursor!: string | null;
}

export function noteView(note: Note, withOwner: boolean): NoteView {
  const view: NoteView = {
    id: note.id,
    title: note.title,
    body: note.body,
    createdAt: note.createdAt.toISOString(),
    updatedAt: note.updatedAt.toISOString(),
  };
  if (withOwner) view.owner = { issuer: note.ownerIssuer, subject: note.ownerSubject };
  return view;
}
