import type { ServiceCommand } from '@tessera/platform';
import { UsersService } from './users.service';

/**
 * `create-admin <email>`: gives a registered account the admin role. The first admin cannot be
 * made through the API, so this runs next to the database (`nx run auth-service:create-admin`).
 */
export const createAdmin: ServiceCommand = async (app, [email]) => {
  if (!email) throw new Error('Usage: create-admin <email of a registered account>');
  const users = app.get(UsersService);
  const user = await users.findByEmail(email);
  if (!user) throw new Error(`No account is registered with ${email}; register it first`);
  await users.setRoles(email, [...user.roles, 'admin']);
  return `${email} is now an admin. Sign in again for a token with the admin role.`;
};
