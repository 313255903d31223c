import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

/**
 * A round-robin TCP balancer on a loopback port in front of several replicas of a service, as a
 * Kubernetes Service (kube-proxy) or any layer-4 load balancer is: each new connection goes to the
 * next replica, and a replica that refuses the connection (it died) is skipped for the next one.
 * Keep-alive connections stay with the replica that took them, as they do behind a real one.
 *
 * @example
 * const balancer = await TcpBalancer.start([3101, 3102]);
 * const url = balancer.url; // http://127.0.0.1:<port>, for clients and for the other services
 * balancer.connections(); // [n, m]: how many connections each replica took
 */
export class TcpBalancer {
  private readonly server: Server = createServer((socket) => this.route(socket, 0));
  private readonly sockets = new Set<Socket>();
  private readonly counts: number[];
  private next = 0;

  private constructor(private readonly ports: readonly number[]) {
    this.counts = ports.map(() => 0);
  }

  static async start(ports: readonly number[]): Promise<TcpBalancer> {
    const balancer = new TcpBalancer(ports);
    await new Promise<void>((resolve, reject) => {
      balancer.server.once('error', reject);
      balancer.server.listen(0, '127.0.0.1', resolve);
    });
    return balancer;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** How many connections each replica (in the order given) has taken so far. */
  connections(): number[] {
    return [...this.counts];
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** To the next replica; one that refuses is skipped, until every replica has refused. */
  private route(client: Socket, tried: number): void {
    if (tried >= this.ports.length) {
      client.destroy();
      return;
    }
    const index = this.next;
    this.next = (this.next + 1) % this.ports.length;
    client.pause();
    const upstream = connect(this.ports[index], '127.0.0.1');
    const refused = () => {
      upstream.destroy();
      this.route(client, tried + 1);
    };
    upstream.once('error', refused);
    upstream.once('connect', () => {
      upstream.off('error', refused);
      this.counts[index] += 1;
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
      client.resume();
    });
  }
}
