import type { ServiceCommand } from '@tessera/platform';
import { GRANT_TYPES } from './client.entity';
import type { GrantType } from './client.entity';
import { ClientDefinitionError, ClientsService } from './clients.service';

const USAGE = [
  'Usage:',
  '  clients list',
  '  clients create <id> --type confidential|public --grant client_credentials|refresh_token',
  '                 [--grant …] [--scope <scope> …] [--audience <service id> …]',
  '  clients rotate-secret <id>',
].join('\n');

/**
 * `clients`: the OAuth clients, from the shell next to the database
 * (`npx nx run auth-service:clients list`), also while the service runs. A new secret is printed once and never stored.
 */
export const clientsCommand: ServiceCommand = async (app, [action, ...args]) => {
  const clients = app.get(ClientsService);
  try {
    if (action === 'list') return formatList(await clients.list());
    if (action === 'create') {
      const [id = '', ...flags] = args;
      const options = readFlags(flags);
      const { client, secret } = await clients.create({
        id,
        type: options.type === 'public' ? 'public' : 'confidential',
        grantTypes: options.grant.map(toGrant),
        scopes: options.scope,
        audiences: options.audience,
      });
      return secret === undefined
        ? `Created the public client ${client.id}.`
        : `Created ${client.id}. Its secret, shown this once:\n${secret}`;
    }
    if (action === 'rotate-secret') {
      const secret = await clients.rotateSecret(args[0] ?? '');
      return `New secret for ${args[0]}, shown this once (the old one no longer works):\n${secret}`;
    }
  } catch (error) {
    if (error instanceof ClientDefinitionError) throw new Error(`${error.message}\n${USAGE}`);
    throw error;
  }
  throw new Error(USAGE);
};

function readFlags(flags: string[]) {
  const options = {
    type: [] as string[],
    grant: [] as string[],
    scope: [] as string[],
    audience: [] as string[],
  };
  for (let index = 0; index < flags.length; index += 1) {
    const flag = flags[index] ?? '';
    // `--scope notes:read` or `--scope=notes:read`.
    const [written, inline] = flag.split(/=(.*)/s, 2);
    const name = written?.startsWith('--') ? (written.slice(2) as keyof typeof options) : undefined;
    const value = inline ?? flags[(index += 1)];
    if (name === undefined || !Object.hasOwn(options, name) || !value)
      throw new ClientDefinitionError(`Unknown or empty option ${flag}`);
    options[name].push(value);
  }
  if (options.type.length > 1 || !['confidential', 'public', undefined].includes(options.type[0])) {
    throw new ClientDefinitionError('--type is confidential or public');
  }
  return { ...options, type: options.type[0] ?? 'confidential' };
}

function toGrant(value: string): GrantType {
  if (!(GRANT_TYPES as readonly string[]).includes(value)) {
    throw new ClientDefinitionError(`--grant is one of ${GRANT_TYPES.join(', ')}`);
  }
  return value as GrantType;
}

function formatList(
  list: {
    id: string;
    type: string;
    grantTypes: string[];
    scopes: string[];
    audiences: string[];
    secretHash: Buffer | null;
  }[],
): string {
  return list
    .map(
      (client) =>
        `${client.id}  ${client.type}${client.type === 'confidential' && !client.secretHash ? ' (no secret yet)' : ''}  ` +
        `grants: ${client.grantTypes.join(' ')}  scopes: ${client.scopes.join(' ') || '-'}  audiences: ${client.audiences.join(' ') || '-'}`,
    )
    .join('\n');
}
