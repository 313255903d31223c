import { Histogram, Registry } from 'prom-client';
import type { Metric } from 'prom-client';
import { RequestDurationHistogram } from './request-duration-histogram';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1];
const OBSERVED: [method: string, route: string, status: number, seconds: number][] = [
  ['GET', '/notes', 200, 0.004],
  ['GET', '/notes', 200, 0.005],
  ['GET', '/notes', 200, 0.02],
  ['GET', '/notes', 200, 7],
  ['POST', '/notes', 201, 0.06],
  ['GET', '/notes/:id', 404, 0.0001],
  ['GET', '/notes', 500, 0.3],
];

/** The same observations through prom-client's own Histogram, and through ours. */
async function render(ours: boolean): Promise<string> {
  const registry = new Registry();
  const name = 'http_request_duration_seconds';
  if (ours) {
    const histogram = new RequestDurationHistogram(name, 'Requests', BUCKETS);
    registry.registerMetric(histogram as unknown as Metric);
    for (const [method, route, status, seconds] of OBSERVED) {
      histogram.observe(method, route, status, seconds);
    }
  } else {
    const histogram = new Histogram({
      name,
      help: 'Requests',
      labelNames: ['method', 'route', 'status'],
      buckets: BUCKETS,
      registers: [registry],
    });
    for (const [method, route, status, seconds] of OBSERVED) {
      histogram.observe({ method, route, status: String(status) }, seconds);
    }
  }
  return registry.metrics();
}

const sorted = (text: string) => text.split('\n').sort();

describe('RequestDurationHistogram', () => {
  it('exposes exactly what prom-client’s Histogram exposes for the same requests', async () => {
    const ours = await render(true);
    expect(sorted(ours)).toEqual(sorted(await render(false)));
    expect(ours).toContain(
      'http_request_duration_seconds_bucket{le="0.005",method="GET",route="/notes",status="200"} 2',
    );
    expect(ours).toContain(
      'http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/notes",status="200"} 4',
    );
  });

  it('starts again from nothing when the registry resets it', async () => {
    const registry = new Registry();
    const histogram = new RequestDurationHistogram('requests_seconds', 'Requests', BUCKETS);
    registry.registerMetric(histogram as unknown as Metric);
    histogram.observe('GET', '/', 200, 0.001);
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('requests_seconds_count{');
  });
});
