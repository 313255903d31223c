import { readRouteTable, routedAudiences, routeTable, upstreamUrls } from './route-table';

const services = { 'auth-service': { port: 3001 }, 'notes-service': { port: 3002 } };

describe('the route table', () => {
  it('reads the bundled routes.json, each auth-service path as it is and each API under /api', () => {
    const table = routeTable();
    expect(table.routes.find((route) => route.prefix === '/api/notes')).toEqual({
      prefix: '/api/notes',
      service: 'resource-service',
      path: '/notes',
      access: 'token',
      audience: 'resource-service',
      scopes: ['notes:read'],
      rateLimit: undefined,
    });
    for (const prefix of ['/auth', '/oauth', '/.well-known', '/userinfo', '/signin', '/account']) {
      expect(table.routes.find((route) => route.prefix === prefix)).toMatchObject({
        service: 'auth-service',
        path: prefix,
        access: 'public',
      });
    }
    // auth-service's admin API and revocation feed stay on the internal network.
    expect(table.routes.map((route) => route.prefix)).not.toContain('/admin');
    expect(table.routes.map((route) => route.prefix)).not.toContain('/revocations');
    expect(routedAudiences(table)).toEqual(['auth-service', 'resource-service']);
  });

  it('makes each upstream from the template, unless UPSTREAMS names it', () => {
    const table = readRouteTable({ services, routes: [] });
    const urls = upstreamUrls(
      table,
      'http://{service}:{port}',
      new Map([['notes-service', 'http://10.0.0.7:8080']]),
    );
    expect(Object.fromEntries(urls)).toEqual({
      'auth-service': 'http://auth-service:3001',
      'notes-service': 'http://10.0.0.7:8080',
    });
  });

  it('refuses a table that cannot be right, naming every problem', () => {
    const route = { prefix: '/api/notes', service: 'notes-service', access: 'token' };
    expect(() =>
      readRouteTable({
        services: { ...services, Bad_Name: { port: 0 } },
        routes: [
          route,
          { ...route, prefix: '/api/notes/mine' },
          { ...route, prefix: '/api/x', service: 'billing-service' },
          { ...route, prefix: '/api/y', access: 'public', scopes: ['y:read'] },
          { ...route, prefix: 'api/z', access: 'open', rateLimit: 0, extra: true },
        ],
      }),
    ).toThrow(
      [
        'apps/gateway/routes.json is invalid:',
        '  - services: "Bad_Name" is not a service name',
        '  - services.Bad_Name.port must be a port number',
        '  - routes[2].service must be one of services (auth-service, notes-service)',
        '  - routes[3].scopes need access token: a public route checks no token',
        '  - routes[4]: unknown key extra',
        '  - routes[4].prefix must be a path such as /api/orders',
        '  - routes[4].path must be a path such as /orders',
        '  - routes[4].access must be token or public',
        '  - routes[4].rateLimit must be a whole number of requests, 1 or more',
        '  - routes[1]: /api/notes/mine is already routed by routes[0] (/api/notes)',
      ].join('\n'),
    );
  });
});
