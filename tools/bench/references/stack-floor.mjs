// What loading the packages a Tessera service is built on costs before any of its code runs:
// requires each (the template's stack: NestJS on Fastify, TypeORM on pg, passport-jwt, validation,
// OpenAPI, health checks, pino, prom-client) and prints, as JSON, the wall-clock and CPU time that
// took and the process's resident memory then. A service's cold start and memory cannot go below
// these. Run from the repository's root: `node tools/bench/references/stack-floor.mjs`.
import { createRequire } from 'node:module';

export const STACK = [
  '@nestjs/core',
  '@nestjs/common',
  '@nestjs/platform-fastify',
  '@nestjs/config',
  '@nestjs/typeorm',
  'typeorm',
  'pg',
  '@nestjs/passport',
  'passport-jwt',
  'class-validator',
  'class-transformer',
  '@nestjs/swagger',
  '@nestjs/terminus',
  'pino',
  'prom-client',
];

const require = createRequire(`${process.cwd()}/package.json`);
const cpu = process.cpuUsage();
const started = performance.now();
for (const name of STACK) require(name);
const used = process.cpuUsage(cpu);
process.stdout.write(
  `${JSON.stringify({
    ms: Math.round(performance.now() - started),
    cpuMs: Math.round((used.user + used.system) / 1000),
    residentBytes: process.memoryUsage.rss(),
  })}\n`,
);
