import registryFile from '../../registry.json';
import { Registry, RegistryError } from './registry';

const valid = () => structuredClone(registryFile) as Record<string, unknown> & typeof registryFile;

describe('Registry', () => {
  it('reads the registry the service is built with', () => {
    const registry = Registry.load();
    expect(registry.audienceIds).toEqual(['auth-service', 'resource-service']);
    expect(registry.isAudience('resource-service')).toBe(true);
    expect(registry.isAudience('orders-service')).toBe(false);
    expect(registry.clients.map((client) => client.id)).toEqual(
      expect.arrayContaining(['tessera-first-party', 'resource-service', 'web']),
    );
    expect(registry.clients.find((client) => client.id === 'web')).toMatchObject({
      type: 'public',
      firstParty: true,
      redirectUris: ['http://localhost:4200/callback'],
      postLogoutRedirectUris: ['http://localhost:4200/'],
    });
    // The first-party default never names auth-service: a token for the account API is asked for.
    expect(registry.clients[0].defaultAudiences).toEqual(['resource-service']);
  });

  it.each<[string, (registry: ReturnType<typeof valid>) => void, string]>([
    [
      'a client naming an unknown audience',
      (registry) => registry.clients[0].audiences.push('orders-service'),
      'clients[0] "tessera-first-party": audiences: "orders-service" is not a registered audience (auth-service, resource-service); add it to audiences first',
    ],
    [
      'a default audience the client may not use',
      (registry) => (registry.clients[1].defaultAudiences = ['resource-service']),
      `clients[1] "resource-service": defaultAudiences: "resource-service" is not among this client's audiences (auth-service)`,
    ],
    [
      'a secret',
      (registry) => Object.assign(registry.clients[1], { secret: 'x'.repeat(43) }),
      'clients[1] "resource-service": "secret": secrets never go in the registry',
    ],
    [
      'a client listed twice',
      (registry) => registry.clients.push(structuredClone(registry.clients[1])),
      `clients[${registryFile.clients.length}] "resource-service": the client "resource-service" is listed twice`,
    ],
    [
      'an audience listed twice',
      (registry) => registry.audiences.push({ id: 'auth-service', description: 'again' }),
      'audiences[2]: the audience "auth-service" is listed twice',
    ],
    [
      'no auth-service audience',
      (registry) => (registry.audiences = registry.audiences.slice(1)),
      'audiences must include "auth-service"',
    ],
    [
      'an unknown grant type',
      (registry) => registry.clients[1].grantTypes.push('password'),
      '"password" is not one of authorization_code, refresh_token, client_credentials',
    ],
    [
      'an http redirect URI on a host other than loopback',
      (registry) =>
        Object.assign(registry.clients[0], {
          grantTypes: ['authorization_code'],
          redirectUris: ['http://app.example/callback'],
        }),
      '"http://app.example/callback" must be https (http only on localhost, 127.0.0.1 or [::1])',
    ],
    [
      'a redirect URI with a fragment',
      (registry) =>
        Object.assign(registry.clients[0], {
          grantTypes: ['authorization_code'],
          redirectUris: ['https://app.example/cb#x'],
        }),
      'must not have a fragment',
    ],
    [
      'a redirect URI with user info',
      (registry) =>
        Object.assign(registry.clients[0], {
          grantTypes: ['authorization_code'],
          redirectUris: ['https://user@app.example/cb'],
        }),
      'must not carry a user name or password',
    ],
    [
      'a redirect URI written two ways',
      (registry) =>
        Object.assign(registry.clients[0], {
          grantTypes: ['authorization_code'],
          redirectUris: ['https://APP.example:443/cb'],
        }),
      'must be written as https://app.example/cb',
    ],
    [
      'the authorization_code grant without a redirect URI',
      (registry) => registry.clients[0].grantTypes.push('authorization_code'),
      'a client has redirectUris exactly when it has the authorization_code grant',
    ],
    [
      'a public client with client_credentials',
      (registry) => registry.clients[0].grantTypes.push('client_credentials'),
      'a public client holds no secret, so it cannot use client_credentials',
    ],
    [
      'a scope with a space',
      (registry) => registry.clients[0].scopes.push('notes read'),
      '"notes read" is not a scope token',
    ],
    [
      'a UUID-shaped client id',
      (registry) => (registry.clients[1].id = '3f1b6c1e-6f0e-4d7c-9a57-2f6f0a4f2b10'),
      'is not a client id',
    ],
    [
      'a bad type',
      (registry) => (registry.clients[1].type = 'trusted'),
      'type must be "public" or "confidential", not "trusted"',
    ],
    [
      'a key it does not know',
      (registry) => Object.assign(registry, { services: [] }),
      'unknown key "services"',
    ],
  ])('refuses %s, saying where', (_case, change, message) => {
    const registry = valid();
    change(registry);
    expect(() => Registry.parse(registry)).toThrow(RegistryError);
    expect(() => Registry.parse(registry)).toThrow(message);
  });

  it('lists every problem at once, under the file name', () => {
    const registry = valid();
    registry.clients[0].audiences.push('a-service');
    registry.clients[1].scopes.push('');
    expect(() => Registry.parse(registry)).toThrow(
      /^apps\/auth-service\/registry\.json is invalid:\n {2}- clients\[0\] .*"a-service".*\n {2}- clients\[1\] .*"" is not a scope token/,
    );
  });
});
