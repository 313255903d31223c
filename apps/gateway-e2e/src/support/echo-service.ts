import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a service behind the gateway received. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The raw name/value list, to see a header sent twice. */
  rawHeaders: string[];
  body: string;
}

/**
 * A stand-in for a service behind the gateway: it answers every request with 200 and what it
 * received, keeps the requests for the test, and sends a CORS header of its own (which the
 * gateway must not pass on).
 */
export class EchoService {
  readonly received: ReceivedRequest[] = [];
  private readonly server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const received = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        rawHeaders: request.rawHeaders,
        body,
      };
      this.received.push(received);
      response.writeHead(200, {
        'content-type': 'application/json',
        'access-control-allow-origin': '*',
        'keep-alive': 'timeout=5',
      });
      response.end(JSON.stringify(received));
    });
  });

  static async start(): Promise<EchoService> {
    const echo = new EchoService();
    await new Promise<void>((resolve) => echo.server.listen(0, '127.0.0.1', resolve));
    return echo;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
