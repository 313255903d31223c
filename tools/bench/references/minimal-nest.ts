/**
 * The bench's reference row "a minimal NestJS app on Fastify": one JSON route, `GET /ping`
 * answering `{"pong":true}` like resource-service's open route, and nothing else (no logger, no
 * hooks, no validation, no metrics). What Tessera's per-request cost is measured against
 * (docs/performance.md).
 *
 * Standalone, on PORT (default 3999), on 127.0.0.1:
 * `PORT=3999 TS_NODE_PROJECT=tools/bench/tsconfig.json node -r ts-node/register/transpile-only tools/bench/references/minimal-nest.ts`
 */
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

@Controller('ping')
class PingController {
  @Get()
  ping(): { pong: boolean } {
    return { pong: true };
  }
}

@Module({ controllers: [PingController] })
class MinimalModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(
    MinimalModule,
    new FastifyAdapter({ logger: false }),
    { logger: false },
  );
  await app.listen({ port: Number(process.env['PORT'] ?? 3999), host: '127.0.0.1' });
  process.stdout.write(`minimal Nest-Fastify reference on ${await app.getUrl()}\n`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main();
