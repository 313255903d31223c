import { notesEntities } from '../notes/notes.persistence';

export const entities = [...notesEntities];
