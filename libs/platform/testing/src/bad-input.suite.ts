import fc from 'fast-check';
import { SECURITY_HEADERS } from '@tessera/platform';

/** One route of a service, as the bad-input suite aims at it. */
export interface BadInputEndpoint {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** With `:id` where a path parameter goes: it is filled with odd values. */
  path: string;
  /** Field names the route reads, so generated bodies come near what it expects. */
  fields?: string[];
}

export interface BadInputSuiteOptions {
  service: string;
  /** Called after the suite's beforeAll hooks: where the service listens, and what it offers. */
  target: () => {
    url: string;
    endpoints: BadInputEndpoint[];
    /** Valid Authorization header values, so requests also reach the checks behind the guard. */
    authorizations: string[];
    bodyLimit: number;
  };
  /** Requests to send. */
  requests: number;
}

const HOUSE_SHAPE = ['error', 'message', 'requestId', 'statusCode'];
const OAUTH_SHAPE = ['error', 'error_description'];

/**
 * O3: sends `requests` generated malformed requests (fast-check, fixed seed, so a failure
 * replays) at every endpoint of a running service: wrong content types, malformed JSON, JSON
 * nested thousands of levels deep (arrays, objects, inside a field) or with too many keys, huge
 * exponents, duplicate keys, `__proto__` and `constructor` keys, wrong types and unknown fields,
 * huge strings and bodies over the limit, odd path parameters, query strings and headers. The
 * service must never answer 5xx or drop the connection, every 4xx must have the documented
 * error shape (the house shape; RFC 6749's on /oauth/*), and every answer carries the security
 * headers (O4). It counts and logs the requests sent; give the service a BODY_LIMIT of at least
 * 24 kB so that bodies 10,000 levels deep reach its JSON parser rather than the 413.
 */
export function describeBadInput(options: BadInputSuiteOptions): void {
  describe(`${options.service} under malformed input`, () => {
    it(
      `answers ${options.requests} malformed requests with no 5xx, and every 4xx in the documented shape`,
      async () => {
        const target = options.target();
        const statuses = new Map<number, number>();
        let sent = 0;
        let tooDeep = 0;
        await fc.assert(
          fc.asyncProperty(requestArbitrary(target), async (request) => {
            sent++;
            const response = await fetch(`${target.url}${request.path}`, {
              method: request.method,
              headers: request.headers,
              body: request.method === 'GET' ? undefined : request.body,
            });
            const text = await response.text();
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
            // O4: the security headers go out on every answer, refusals included.
            for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
              if (response.headers.get(name) !== value) {
                throw new Error(
                  `${request.method} ${request.path} answered ${response.status} without ${name}: ${value}`,
                );
              }
            }
            if (response.status >= 500) {
              throw new Error(
                `${request.method} ${request.path} answered ${response.status}: ${text.slice(0, 300)}`,
              );
            }
            if (response.status >= 400) {
              const parsed = JSON.parse(text) as Record<string, unknown>;
              if (/nested too deeply|too many keys/.test(String(parsed['message']))) tooDeep++;
              const keys = Object.keys(parsed).sort();
              const shapes = request.path.startsWith('/oauth/')
                ? [HOUSE_SHAPE, OAUTH_SHAPE]
                : [HOUSE_SHAPE];
              if (!shapes.some((shape) => shape.join() === keys.join())) {
                throw new Error(
                  `${request.method} ${request.path} answered ${response.status} as ${text.slice(0, 300)}`,
                );
              }
            }
          }),
          { numRuns: options.requests, seed: 20261201, endOnFailure: true },
        );
        // The figure the issue asks for (5,000 across the services): in the test output, not an error.
        console.warn(
          `${options.service}: ${sent} malformed requests sent, ${tooDeep} refused by the JSON depth and key limits; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`,
        );
        expect(sent).toBe(options.requests);
        // The generated input really is bad: most of it must have been refused.
        const refused = [...statuses]
          .filter(([status]) => status >= 400)
          .reduce((sum, [, count]) => sum + count, 0);
        expect(refused).toBeGreaterThan(options.requests / 2);
        expect(statuses.has(413)).toBe(true);
        // Deep and wide bodies reached the parser and were refused there, in the house shape.
        expect(tooDeep).toBeGreaterThan(0);
      },
      Math.max(30_000, options.requests * 60),
    );
  });
}

interface GeneratedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
}

function requestArbitrary(
  target: ReturnType<BadInputSuiteOptions['target']>,
): fc.Arbitrary<GeneratedRequest> {
  const oddText = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom(
      '',
      ' ',
      '0',
      '-1',
      '1e309',
      'NaN',
      'null',
      'true',
      '../../etc/passwd',
      "' OR 1=1 --",
      '%00',
      '\u0000',
      '😀',
      '<script>',
    ),
  );
  const json = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
    fc.constantFrom(
      '{',
      '{"a":',
      '[1,2',
      '{"a":1,}',
      "{'a':1}",
      'undefined',
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"admin":true}}}',
    ),
    // Huge exponents (Infinity once parsed), and keys that pollute prototypes or repeat.
    fc.constantFrom(
      '1e999999',
      '-1e999999',
      '{"a":1e999999}',
      '[1e999999,-1e-999999]',
      '{"constructor":{"name":"x"}}',
      '{"constructor":null}',
      '{"a":{"__proto__":{"admin":true}}}',
      '[{"__proto__":[]}]',
      '{"\\u005f_proto__":{"admin":true}}',
      '{"a":1,"a":2,"a":{"b":3}}',
    ),
    // Deep nesting, up to the 10,000 levels that overflowed the stack (limit: 32).
    fc
      .oneof(fc.integer({ min: 30, max: 40 }), fc.integer({ min: 1000, max: 10000 }))
      .map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
    fc
      .oneof(fc.integer({ min: 30, max: 40 }), fc.integer({ min: 100, max: 4000 }))
      .map((depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
    fc
      .integer({ min: 1000, max: 6000 })
      .map((depth) => '[{"a":'.repeat(depth) + '0' + '}]'.repeat(depth)),
    // Too many keys (limit: 1,000), repeated or not.
    fc
      .tuple(fc.integer({ min: 1001, max: 3000 }), fc.boolean())
      .map(([count, same]) =>
        same
          ? `{${'"":0,'.repeat(count)}"z":0}`
          : JSON.stringify(Object.fromEntries(Array.from({ length: count }, (_, i) => [i, 0]))),
      ),
  );
  const nearMisses = (fields: string[]) =>
    fc.oneof(
      fc
        .dictionary(
          fc.constantFrom(...fields, 'admin', 'roles', 'scope', '__proto__', 'constructor', 'id'),
          fc.oneof(fc.anything({ maxDepth: 2 }), oddText, fc.constant('x'.repeat(20000))),
          { maxKeys: 5 },
        )
        .map((value) => JSON.stringify(value)),
      // A right field name holding deep nesting, a huge exponent, or given twice.
      fc
        .tuple(fc.constantFrom(...fields), fc.integer({ min: 30, max: 10000 }))
        .map(([field, depth]) => `{"${field}":${'['.repeat(depth)}${']'.repeat(depth)}}`),
      fc.constantFrom(...fields).map((field) => `{"${field}":1e999999}`),
      fc
        .tuple(fc.constantFrom(...fields), oddText, oddText)
        .map(
          ([field, a, b]) =>
            `{${JSON.stringify(field)}:${JSON.stringify(a)},${JSON.stringify(field)}:${JSON.stringify(b)}}`,
        ),
      fc.constantFrom(...fields).map((field) => `{"${field}":"x","__proto__":{"${field}":"y"}}`),
    );
  const form = fc
    .dictionary(
      fc.constantFrom(
        'grant_type',
        'client_id',
        'client_secret',
        'token',
        'refresh_token',
        'scope',
        'audience',
        'x',
      ),
      oddText,
      { maxKeys: 5 },
    )
    .map((value) => new URLSearchParams(value).toString());
  const oversized = fc.constant(`{"title":"${'x'.repeat(target.bodyLimit + 10)}"}`);
  const authorization = fc.oneof(
    fc.constant(undefined),
    fc.constantFrom(...target.authorizations),
    oddText.map((text) => `Bearer ${text}`),
    fc.constantFrom('Basic', 'Basic !!!', 'Bearer', 'bearer a.b.c', `Bearer ${'a'.repeat(9000)}`),
  );
  const anyBody = fc.oneof(json, form, oversized, fc.constant(''), fc.string({ maxLength: 200 }));
  return fc.constantFrom(...target.endpoints).chain((endpoint) =>
    fc
      .record({
        id: oddText,
        query: fc.option(
          fc.dictionary(
            fc.constantFrom('limit', 'cursor', 'all', 'access_token', 'after', 'x'),
            oddText,
            { maxKeys: 3 },
          ),
        ),
        contentType: fc.constantFrom(
          'application/json',
          'application/json; charset=latin1',
          'application/x-www-form-urlencoded',
          'text/plain',
          'application/xml',
          'multipart/form-data; boundary=x',
          '',
        ),
        // Routes that read fields get near misses half the time: the right names, wrong values.
        body: endpoint.fields ? fc.oneof(anyBody, nearMisses(endpoint.fields)) : anyBody,
        authorization,
        requestId: fc.option(oddText),
      })
      .map((parts) => {
        const path = endpoint.path.replace(':id', encodeURIComponent(parts.id) || '%20');
        const query = parts.query ? `?${new URLSearchParams(parts.query).toString()}` : '';
        const headers: Record<string, string> = {};
        if (parts.contentType) headers['content-type'] = parts.contentType;
        if (parts.authorization !== undefined)
          headers['authorization'] = safeHeader(parts.authorization);
        if (parts.requestId !== null) headers['x-request-id'] = safeHeader(parts.requestId);
        return { method: endpoint.method, path: `${path}${query}`, headers, body: parts.body };
      }),
  );
}

/** Header values fetch() will send: no control characters or non-Latin-1. */
function safeHeader(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?');
}
