import type { LogLevel as NestLogLevel } from '@nestjs/common';
import type { LogLevel } from '../config/service-environment';

const ORDER: NestLogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
const NEST_LEVEL: Record<LogLevel, NestLogLevel> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  info: 'log',
  debug: 'debug',
  trace: 'verbose',
};

/** The Nest logger levels enabled by LOG_LEVEL (it names the least severe level to print). */
export function nestLogLevels(level: LogLevel): NestLogLevel[] {
  return ORDER.slice(0, ORDER.indexOf(NEST_LEVEL[level]) + 1);
}
