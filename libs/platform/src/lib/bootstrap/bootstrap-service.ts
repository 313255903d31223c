import { Logger, Module } from '@nestjs/common';
import type { Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ServiceConfig } from '../config/service-config';
import { EnvironmentValidationError } from '../config/environment-validation.error';
import { metricsPortOf } from '../config/service-environment';
import type { HttpServiceEnvironment } from '../config/service-environment';
import { configureFastify, createFastifyAdapter } from '../http/fastify-adapter';
import { configureHttpSecurity } from '../http/http-security';
import { createNestLogger, registerRequestLogging } from '../logging/request-logging';
import { createServiceLogger } from '../logging/service-logger';
import { registerHttpMetrics } from '../metrics/http-metrics';
import { MetricsServer } from '../metrics/metrics-server';
import { MetricsModule } from '../metrics/metrics.module';
import { configureApiDocs } from '../api-docs/api-docs';
import { stopTracing, tracingStarted } from '../tracing/start-tracing';
import { registerTraceRoutes } from '../tracing/trace-routes';
import { connectMessageTransports } from '../messaging/message-transports';

export interface BootstrapOptions {
  /** Used in log lines, e.g. `auth-service`. */
  name: string;
  config: ServiceConfig;
}

/**
 * Starts a service: validates its environment, builds the Nest application on Fastify, listens,
 * and shuts down gracefully on SIGTERM/SIGINT (stop accepting, finish in-flight requests, close
 * the pool and any embedded PostgreSQL, exit 0). Any start-up failure exits 1 with a message.
 */
export async function bootstrapService(
  appModule: Type<unknown>,
  options: BootstrapOptions,
): Promise<NestFastifyApplication> {
  const logger = new Logger(options.name);
  const environment = loadEnvironmentOrExit(options);
  const started = createServiceApplication(appModule, environment, options.name).then(
    async (app) => {
      try {
        await app.listen({ port: environment.PORT, host: environment.HOST });
        const metricsPort = metricsPortOf(environment);
        if (metricsPort !== 0) {
          await app.get(MetricsServer).listen(metricsPort, environment.METRICS_HOST);
        }
      } catch (error) {
        // A port in use: release the pool and any embedded PostgreSQL before exiting.
        await app.close().catch(() => undefined);
        throw error;
      }
      return app;
    },
  );
  // Listen for signals from the first moment: a Ctrl-C while the embedded database starts must
  // still close everything in order.
  handleShutdownSignals(started, environment, logger);
  try {
    const app = await started;
    logger.log(
      `Listening on http://${environment.HOST}:${environment.PORT} (${environment.NODE_ENV})`,
    );
    return app;
  } catch (error) {
    // The name, message and stack only: a driver's error may carry query parameters, and those
    // can hold hashes and emails.
    const message = error instanceof Error ? error.message : String(error);
    logger.fatal({
      msg: `Could not start: ${message}`,
      err: error instanceof Error ? { type: error.name, message, stack: error.stack } : message,
    });
    process.exit(1);
  }
}

/**
 * The Nest application with the house HTTP wiring, initialised but not listening (tests use it):
 * JSON logs through pino at LOG_LEVEL, a request id on every request and its log lines, the
 * application's metrics (MetricsModule, added around `appModule`), and its API docs, titled
 * `name`. The metrics listener starts only in bootstrapService.
 */
export async function createServiceApplication(
  appModule: Type<unknown>,
  environment: HttpServiceEnvironment,
  name = 'Tessera service',
): Promise<NestFastifyApplication> {
  // One pino logger for the whole application: Nest's own lines (start-up, a failed start), every
  // `new Logger(Class.name)`, and the request lines.
  const logger = createServiceLogger(environment);
  @Module({ imports: [MetricsModule, appModule] })
  class ServiceApplicationModule {}
  const app = await NestFactory.create<NestFastifyApplication>(
    ServiceApplicationModule,
    createFastifyAdapter(environment),
    // Throw instead of process.abort() so a failed start ends with a message and exit code 1.
    { abortOnError: false, logger: createNestLogger(logger) },
  );
  configureHttpSecurity(app, environment);
  configureFastify(app);
  registerRequestLogging(app, logger);
  if (tracingStarted()) registerTraceRoutes(app);
  registerHttpMetrics(app);
  configureApiDocs(app, environment, name);
  try {
    await app.init();
    await connectMessageTransports(app);
  } catch (error) {
    // Release what did start (the pool, an embedded PostgreSQL) before the error goes up.
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}

function loadEnvironmentOrExit(options: BootstrapOptions): HttpServiceEnvironment {
  try {
    return options.config();
  } catch (error) {
    if (!(error instanceof EnvironmentValidationError)) throw error;
    // Plain stderr: the logger is not configured yet and a stack trace would hide the message.
    process.stderr.write(`${options.name}: ${error.message}\n`);
    process.exit(1);
  }
}

/**
 * Nest's enableShutdownHooks() re-raises the signal after closing, so the process would end with
 * 130/143. A clean stop should exit 0, and a stuck one should not hang forever.
 */
function handleShutdownSignals(
  started: Promise<NestFastifyApplication>,
  environment: HttpServiceEnvironment,
  logger: Logger,
): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: finishing in-flight requests, then stopping`);
    const timer = setTimeout(() => {
      logger.error(`Shutdown took longer than ${environment.SHUTDOWN_TIMEOUT} ms; exiting`);
      process.exit(1);
    }, environment.SHUTDOWN_TIMEOUT);
    timer.unref();
    started
      .then((app) => app.close())
      // The spans of the last requests, still buffered, go out before the process ends.
      .then(() => stopTracing())
      .then(
        () => {
          logger.log('Stopped');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error('Shutdown failed', error instanceof Error ? error.stack : String(error));
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
