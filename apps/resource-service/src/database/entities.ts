import { Note } from '../notes/note.entity';

/**
 * Every entity of the service's one database. This folder owns the persistence lists (this one
 * and migrations/index.ts); a feature owns its entity classes and never imports from here.
 */
export const entities = [Note];
