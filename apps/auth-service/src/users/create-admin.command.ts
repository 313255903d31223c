import type { ServiceCommand } from '@tessera/platform';
import { UsersService } from './users.service';

const USAGE = 'Usage: create-admin <email of a registered account>';

/**
 * `create-admin <email>`: gives a registered account the admin role. The first admin cannot be
 * made through the API, so this runs next to the database
 * (`npx nx run auth-service:create-admin ada@example.com`), also while the service runs.
 */
export const createAdmin: ServiceCommand = async (app, args) => {
  const [email] = args;
  if (!email || args.length > 1 || email.startsWith('-')) {
    throw new Error(args.length === 0 ? USAGE : `${USAGE} (given: ${args.join(' ')})`);
  }
  const users = app.get(UsersService);
  const user = await users.findByEmail(email);
  if (!user) throw new Error(`No account is registered with ${email}; register it first`);
  await users.setRoles(email, [...user.roles, 'admin']);
  return `${email} is now an admin. Sign in again for a token with the admin role.`;
};
