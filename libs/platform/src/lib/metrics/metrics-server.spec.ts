import { Metrics } from './metrics';
import { MetricsServer } from './metrics-server';

const PORT = 15501;

describe('MetricsServer', () => {
  const metrics = new Metrics();
  const server = new MetricsServer(metrics);

  beforeAll(async () => {
    metrics.counter('things_total', 'Things').inc({});
    await expect(server.listen(PORT, '127.0.0.1')).resolves.toBe(
      `http://127.0.0.1:${PORT}/metrics`,
    );
  });

  afterAll(() => server.onApplicationShutdown());

  it('answers GET /metrics with the Prometheus text format, never cached', async () => {
    const response = await fetch(`http://127.0.0.1:${PORT}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(metrics.contentType);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).toMatch(/^things_total 1$/m);
  });

  it('answers nothing else', async () => {
    expect((await fetch(`http://127.0.0.1:${PORT}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${PORT}/health/live`)).status).toBe(404);
    const post = await fetch(`http://127.0.0.1:${PORT}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('listens on the interface it is given only', async () => {
    // The whole of 127.0.0.0/8 is this machine, but the listener is bound to 127.0.0.1.
    await expect(fetch(`http://127.0.0.2:${PORT}/metrics`)).rejects.toThrow();
  });

  it('fails to start, rather than share, when its port is taken', async () => {
    await expect(new MetricsServer(metrics).listen(PORT, '127.0.0.1')).rejects.toThrow(
      /EADDRINUSE/,
    );
  });

  it('stops listening when the application shuts down', async () => {
    const other = new MetricsServer(metrics);
    await other.listen(PORT + 1, '127.0.0.1');
    await other.onApplicationShutdown();
    await expect(fetch(`http://127.0.0.1:${PORT + 1}/metrics`)).rejects.toThrow();
  });
});
