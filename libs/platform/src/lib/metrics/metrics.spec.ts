import { Metrics } from './metrics';

describe('Metrics', () => {
  it('exports a counter from its creation, its initial label sets at 0', async () => {
    const metrics = new Metrics();
    metrics.counter('things_total', 'Things', ['kind'], [{ kind: 'a' }, { kind: 'b' }]);
    metrics.counter('events_total', 'Events');
    const exposition = await metrics.render();
    expect(exposition).toContain('# TYPE things_total counter');
    expect(exposition).toMatch(/^things_total\{kind="a"\} 0$/m);
    expect(exposition).toMatch(/^things_total\{kind="b"\} 0$/m);
    expect(exposition).toMatch(/^events_total 0$/m);
  });

  it('hands out the same counter for the same name, and counts by label', async () => {
    const metrics = new Metrics();
    const first = metrics.counter('things_total', 'Things', ['kind']);
    const again = metrics.counter('things_total', 'Things', ['kind']);
    first.inc({ kind: 'a' });
    again.inc({ kind: 'a' }, 2);
    again.inc({ kind: 'b' });
    const exposition = await metrics.render();
    expect(exposition).toMatch(/^things_total\{kind="a"\} 3$/m);
    expect(exposition).toMatch(/^things_total\{kind="b"\} 1$/m);
  });

  it('keeps each application’s counts apart, in a registry of its own', async () => {
    const one = new Metrics();
    const other = new Metrics();
    one.counter('things_total', 'Things').inc({});
    other.counter('things_total', 'Things');
    expect(await one.render()).toMatch(/^things_total 1$/m);
    expect(await other.render()).toMatch(/^things_total 0$/m);
  });

  it('refuses a counter whose name another kind of metric holds', () => {
    expect(() =>
      new Metrics().counter('tessera_http_request_duration_seconds', 'Not a counter'),
    ).toThrow('tessera_http_request_duration_seconds is already a metric of another kind');
  });

  it('observes HTTP requests into the duration histogram, with the process metrics beside it', async () => {
    const metrics = new Metrics();
    metrics.observeHttpRequest('GET', '/notes/:id', 200, 0.003);
    const exposition = await metrics.render();
    expect(exposition).toMatch(
      /^tessera_http_request_duration_seconds_count\{method="GET",route="\/notes\/:id",status="200"\} 1$/m,
    );
    expect(exposition).toMatch(
      /^tessera_http_request_duration_seconds_sum\{method="GET",route="\/notes\/:id",status="200"\} 0.003$/m,
    );
    expect(exposition).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
