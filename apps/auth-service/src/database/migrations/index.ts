import { CreateUsers1763798400000 } from './1763798400000-create-users';

/** In order. Listed, not globbed: the service is a webpack bundle. */
export const migrations = [CreateUsers1763798400000];
