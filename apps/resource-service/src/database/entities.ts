import { Note } from '../notes/note.entity';

export const entities = [Note];
