import { CreateNotes1763798400000 } from './1763798400000-create-notes';

/** In order. Listed, not globbed: the service is a webpack bundle. */
export const migrations = [CreateNotes1763798400000];
