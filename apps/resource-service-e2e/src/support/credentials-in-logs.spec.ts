import { credentialsIn } from './tessera-system';

/** The R27 net every system suite runs on the services' logs when it stops. */
describe('credentialsIn', () => {
  const clean = [
    '{"level":"info","reqId":"5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b","req":{"method":"POST","url":"/auth/refresh?access_token"},"res":{"statusCode":200},"msg":"request completed"}',
    '{"level":"warn","context":"ThingsController","body":{"password":"[Redacted]","refresh_token":"[Redacted]"},"msg":"careless"}',
    '{"level":"warn","msg":"Refresh token reuse detected for session 1c9e…: every session of the user revoked"}',
  ].join('\n');

  it('finds nothing in lines that carry no credential', () => {
    expect(credentialsIn(clean, ['a-client-secret-0123456789'])).toEqual([]);
  });

  it.each([
    ['a JWT', '"token":"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"'],
    ['a bearer credential', 'authorization: Bearer abcdefghijklmnop'],
    ['a refresh-token cookie', 'cookie: tessera_refresh=Zm9vYmFyYmF6cXV4'],
    ['a password', '{"password":"hunter2"}'],
    ['a client secret field', '{"client_secret":"s3cr3t"}'],
    ['a secret of the system', 'connecting with a-client-secret-0123456789'],
  ])('finds %s, and shows only its first characters', (_kind, line) => {
    const found = credentialsIn(`${clean}\n${line}`, ['a-client-secret-0123456789']);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^.{1,12}…$/);
  });
});
