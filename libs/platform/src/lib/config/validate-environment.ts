import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync } from 'class-validator';
import type { ValidationError } from 'class-validator';
import { readFileSync } from 'node:fs';
import { EnvironmentValidationError } from './environment-validation.error';
import type { EnvironmentProblem } from './environment-validation.error';

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
 * Any declared variable X can come from a file instead, the convention of the official Docker
 * images and of Docker secrets: when X is unset (or empty) and `X_FILE` names a file, X is that
 * file's content without its one trailing newline. A value of X itself wins over X_FILE.
 *
 * @throws EnvironmentValidationError naming every bad variable, and every X_FILE it could not read.
 */
export function validateEnvironment<T extends object>(
  environmentClass: EnvironmentClass<T>,
  source: Record<string, string | undefined>,
): T {
  const declared: Record<string, string> = {};
  const unreadable: EnvironmentProblem[] = [];
  for (const name of environmentVariableNames(environmentClass)) {
    const value = source[name] || fromFile(name, source[`${name}_FILE`], unreadable);
    if (value !== undefined && value !== '') declared[name] = value;
  }
  if (unreadable.length > 0) throw new EnvironmentValidationError(unreadable);
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

/** The content of `${name}_FILE`, less one trailing newline; undefined when it names no file. */
function fromFile(
  name: string,
  path: string | undefined,
  unreadable: EnvironmentProblem[],
): string | undefined {
  if (path === undefined || path === '') return undefined;
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    // The path is not secret, and is what the operator needs to see; the content never appears.
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    unreadable.push({
      variable: `${name}_FILE`,
      expected: `must name a readable file holding ${name} (${path}: ${reason})`,
    });
    return undefined;
  }
}

function toProblem(error: ValidationError) {
  const messages = [...new Set(Object.values(error.constraints ?? {}))];
  return {
    variable: error.property,
    expected: messages.length > 0 ? messages.join('; ') : 'is invalid',
  };
}
