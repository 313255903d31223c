import type { Note } from './note.entity';

export interface NoteOwner {
  issuer: string;
  subject: string;
}

/**
 * A note as the API answers it. `owner` is there exactly when the note may not be the caller's:
 * on every item of `GET /notes?all=true` (the admin's own included, so the list is uniform) and
 * when an admin reads another owner's note. A caller's own notes never carry it: they know who
 * they are.
 */
export interface NoteView {
  id: string;
  title: string;
  body: string;
  createdAt: string;
  updatedAt: string;
  owner?: NoteOwner;
}

export interface NotePage {
  items: NoteView[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
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
