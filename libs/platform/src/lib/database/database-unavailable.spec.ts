import { Client } from 'pg';
import { isDatabaseUnavailable } from './database-unavailable';

describe('isDatabaseUnavailable', () => {
  it('recognises a refused connection from pg itself', async () => {
    const client = new Client({ connectionString: 'postgres://nobody:secret@127.0.0.1:1/none' });
    const error = await client.connect().catch((failure: unknown) => failure);
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    [{ code: 'ECONNRESET' }],
    [{ code: '57P01', message: 'terminating connection due to administrator command' }],
    [{ code: '08006' }],
    [{ message: 'Query failed', driverError: new Error('Connection terminated unexpectedly') }],
    [{ message: 'timeout exceeded when trying to connect' }],
  ])('takes %j for a database that is away', (error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    [new Error('duplicate key value violates unique constraint')],
    [{ code: '23505' }],
    [{ code: '22P02', message: 'invalid input syntax for type uuid' }],
    ['a string'],
    [null],
  ])('does not take %j for one: that is a bug or a bad request', (error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
