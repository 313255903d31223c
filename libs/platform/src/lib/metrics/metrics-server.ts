import { Injectable, Logger } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Metrics } from './metrics';

/**
 * The metrics listener: `GET /metrics` in the Prometheus text format, on a port of its own
 * (METRICS_PORT, on METRICS_HOST), apart from the API's port, so that whatever publishes the API
 * (a load balancer, docker-compose's `ports:`) does not publish the metrics with it
 * (docs/adr/0010-metrics-on-a-separate-listener.md). It answers nothing else, and it is closed
 * with the application.
 */
@Injectable()
export class MetricsServer implements OnApplicationShutdown {
  private readonly logger = new Logger(MetricsServer.name);
  private server?: Server;

  constructor(private readonly metrics: Metrics) {}

  /** Starts listening; resolves with the URL of `/metrics`. */
  async listen(port: number, host: string): Promise<string> {
    const server = createServer((request, response) => {
      const path = (request.url ?? '').split('?')[0];
      if (path !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
        return;
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
        response.end('Method Not Allowed\n');
        return;
      }
      this.metrics.render().then(
        (text) => {
          response.writeHead(200, {
            'content-type': this.metrics.contentType,
            'cache-control': 'no-store',
          });
          response.end(request.method === 'HEAD' ? undefined : text);
        },
        (error: unknown) => {
          this.logger.error(
            `Could not render the metrics: ${error instanceof Error ? error.message : String(error)}`,
          );
          response.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error\n');
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/metrics`;
    this.logger.log(`Metrics on ${url}`);
    return url;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
