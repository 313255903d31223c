import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

/**
 * A TCP proxy on a loopback port in front of a server (PostgreSQL, say), that a test can cut and
 * restore: what a service sees when its database goes away and comes back at the same address.
 *
 * @example
 * const proxy = await TcpProxy.start(new URL(databaseUrl));
 * const throughProxy = proxy.rewrite(databaseUrl); // give this to the service
 * await proxy.cut(); // connections drop, new ones are refused
 * await proxy.restore();
 */
export class TcpProxy {
  private server: Server = createServer((socket) => this.pipe(socket));
  private readonly sockets = new Set<Socket>();
  private boundPort = 0;

  private constructor(private readonly target: { host: string; port: number }) {}

  static async start(target: URL): Promise<TcpProxy> {
    const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port) });
    await proxy.listen(0);
    return proxy;
  }

  get port(): number {
    return this.boundPort;
  }

  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string {
    const rewritten = new URL(url);
    rewritten.hostname = '127.0.0.1';
    rewritten.port = String(this.port);
    return rewritten.toString();
  }

  /** Drops every connection and refuses new ones. */
  async cut(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Accepts connections again, on the same port. */
  async restore(): Promise<void> {
    if (this.server.listening) return;
    this.server = createServer((socket) => this.pipe(socket));
    await this.listen(this.boundPort);
  }

  async stop(): Promise<void> {
    if (this.server.listening) await this.cut();
  }

  private async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', resolve);
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
  }

  private pipe(client: Socket): void {
    const upstream = connect(this.target.port, this.target.host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  }
}
