import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync } from 'class-validator';
import type { ValidationError } from 'class-validator';
import { EnvironmentValidationError } from './environment-validation.error';

type EnvironmentClass<T> = new () => T;

/**
 * The names of the variables an environment class declares (every decorated property, inherited
 * ones included). Tests use it to keep docker-compose.yml and .env.example in step with the code.
 */
export function environmentVariableNames(environmentClass: EnvironmentClass<object>): string[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(
    environmentClass,
    '',
    true,
    false,
  );
  return [...new Set(metadata.map((entry) => entry.propertyName))].sort();
}

/**
 * Validates `source` (normally `process.env`) against a class-validator class and returns a typed
 * instance with defaults applied. Only the declared variables are read; an empty string counts as
 * unset so that `FOO=` in a compose file falls back to the default instead of failing.
 *
 * @throws EnvironmentValidationError naming every bad variable.
 */
export function validateEnvironment<T extends object>(
  environmentClass: EnvironmentClass<T>,
  source: Record<string, string | undefined>,
): T {
  const declared: Record<string, string> = {};
  for (const name of environmentVariableNames(environmentClass)) {
    const value = source[name];
    if (value !== undefined && value !== '') declared[name] = value;
  }
  const environment = plainToInstance(environmentClass, declared, {
    enableImplicitConversion: true,
    exposeDefaultValues: true,
  });
  const errors = validateSync(environment, { forbidUnknownValues: true });
  if (errors.length > 0) {
    throw new EnvironmentValidationError(errors.map(toProblem));
  }
  return environment;
}

function toProblem(error: ValidationError) {
  const messages = [...new Set(Object.values(error.constraints ?? {}))];
  return {
    variable: error.property,
    expected: messages.length > 0 ? messages.join('; ') : 'is invalid',
  };
}
