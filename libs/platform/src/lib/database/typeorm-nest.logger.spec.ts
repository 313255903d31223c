import { Logger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';
import { TypeOrmNestLogger } from './typeorm-nest.logger';

describe('TypeOrmNestLogger', () => {
  let errors: jest.SpyInstance;
  let logs: jest.SpyInstance;

  beforeEach(() => {
    errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    logs = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('logs a failed query with its SQL and message but never its parameters', () => {
    // Called as TypeORM calls it, parameters included.
    const logger: TypeOrmLogger = new TypeOrmNestLogger(true);
    logger.logQueryError(
      new Error('duplicate key value violates unique constraint'),
      'INSERT INTO "users"("email", "password_hash") VALUES ($1, $2)',
      ['ada@example.com', '$argon2id$v=19$secret-hash'],
    );
    const line = String(errors.mock.calls[0]?.[0]);
    expect(line).toContain('duplicate key value');
    expect(line).toContain('INSERT INTO "users"');
    expect(line).not.toContain('secret-hash');
    expect(line).not.toContain('ada@example.com');
  });

  it('logs a unique violation, which the caller answers with a 409, at debug level only', () => {
    const debug = jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
    const violation = Object.assign(new Error('duplicate key value violates unique constraint'), {
      driverError: { code: '23505' },
    });
    new TypeOrmNestLogger(true).logQueryError(violation, 'INSERT INTO "users" …');
    expect(errors).not.toHaveBeenCalled();
    expect(debug).toHaveBeenCalledTimes(1);
  });

  it('logs migration progress only when verbose', () => {
    new TypeOrmNestLogger(false).logMigration('Migration X has been executed successfully.');
    expect(logs).not.toHaveBeenCalled();
    new TypeOrmNestLogger(true).logMigration('Migration X has been executed successfully.');
    expect(logs).toHaveBeenCalledWith('Migration X has been executed successfully.');
  });
});
