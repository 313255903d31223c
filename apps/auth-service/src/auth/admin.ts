/** The role an account needs for /admin/* (given by `nx run auth-service:create-admin`). */
export const ADMIN_ROLE = 'admin';

/**
 * The scope a token needs for /admin/*, granted only when asked for and only to an account with
 * ADMIN_ROLE: an admin's everyday token cannot administer, and a token sent to a resource service
 * cannot either (its audience is not auth-service).
 */
export const ADMIN_SCOPE = 'admin';
