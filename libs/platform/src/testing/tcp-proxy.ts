import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

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
  private server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly target: { host: string; port: number },
    readonly port: number,
    server: Server,
  ) {
    this.server = server;
  }

  static async start(target: URL): Promise<TcpProxy> {
    const destination = { host: target.hostname, port: Number(target.port) };
    let proxy: TcpProxy | undefined;
    const server = createServer((socket) => proxy?.pipe(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    proxy = new TcpProxy(
      destination,
      typeof address === 'object' && address ? address.port : 0,
      server,
    );
    return proxy;
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
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', resolve);
    });
  }

  async stop(): Promise<void> {
    if (this.server.listening) await this.cut();
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
