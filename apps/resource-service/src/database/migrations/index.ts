import { CreateNotes1763798400000 } from './1763798400000-create-notes';
import { IndexNotesForKeysetPages1763798400100 } from './1763798400100-index-notes-for-keyset-pages';
import { HideNotesOfDisabledUsers1763798401300 } from './1763798401300-hide-notes-of-disabled-users';

/**
 * Every migration of the service, in order: the one list TypeORM runs. Listed, not globbed: the
 * service is a webpack bundle.
 */
export const migrations = [
  CreateNotes1763798400000,
  IndexNotesForKeysetPages1763798400100,
  HideNotesOfDisabledUsers1763798401300,
];
