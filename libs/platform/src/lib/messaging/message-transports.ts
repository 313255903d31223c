import type { INestApplication } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { CustomTransportStrategy } from '@nestjs/microservices';

/**
 * The message transports a service runs beside HTTP (for example a `JetStreamEventServer` when
 * NATS_URL is set): a provider of the application's module, a list, empty when there is none.
 * createServiceApplication connects each one.
 */
export const MESSAGE_TRANSPORTS = Symbol('MESSAGE_TRANSPORTS');

/**
 * Connects the application's MESSAGE_TRANSPORTS and starts them. Each shares the application's
 * configuration (`inheritAppConfig`): without it Nest runs a hybrid application's message
 * handlers with none of its global guards, so AuthModule's guard would not see them.
 */
export async function connectMessageTransports(app: INestApplication): Promise<void> {
  let transports: CustomTransportStrategy[];
  try {
    // Through ModuleRef, not app.get: the application's own methods run in Nest's exception
    // zone, which logs a missing provider at `error` before it throws, and a service without
    // messaging has none.
    transports = app
      .get(ModuleRef)
      .get<CustomTransportStrategy[]>(MESSAGE_TRANSPORTS, { strict: false });
  } catch {
    return;
  }
  if (transports.length === 0) return;
  for (const strategy of transports)
    app.connectMicroservice({ strategy }, { inheritAppConfig: true });
  await app.startAllMicroservices();
}
