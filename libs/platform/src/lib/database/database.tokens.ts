export const DATABASE_OPTIONS = Symbol('DATABASE_OPTIONS');

/**
 * Provided (true) by runServiceCommand: a one-off command uses the embedded PostgreSQL the
 * running service started instead of failing to start a second one on the same data.
 */
export const SHARE_RUNNING_DATABASE = Symbol('SHARE_RUNNING_DATABASE');
