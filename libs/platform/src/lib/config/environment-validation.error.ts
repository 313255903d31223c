/** One variable that failed validation, with what was expected of it. */
export interface EnvironmentProblem {
  variable: string;
  expected: string;
}

/**
 * Thrown when the environment does not validate. Its message names every bad variable and what
 * it must be, and never echoes a value: variables such as DATABASE_URL carry secrets.
 */
export class EnvironmentValidationError extends Error {
  constructor(readonly problems: EnvironmentProblem[]) {
    super(
      [
        'Invalid configuration; fix these environment variables and start again:',
        ...problems.map((problem) => `  ${problem.variable}: ${problem.expected}`),
      ].join('\n'),
    );
    this.name = 'EnvironmentValidationError';
  }
}
