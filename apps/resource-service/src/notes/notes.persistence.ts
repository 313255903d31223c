import { CreateNotes1763798400000 } from '../database/migrations/1763798400000-create-notes';
import { IndexNotesForKeysetPages1763798400100 } from '../database/migrations/1763798400100-index-notes-for-keyset-pages';
import { Note } from './note.entity';

/** For database/entities.ts and database/migrations/index.ts. */
export const notesEntities = [Note];
export const notesMigrations = [CreateNotes1763798400000, IndexNotesForKeysetPages1763798400100];
