/** The labels of a series of {@link RequestDurationHistogram}. */
type SeriesLabels = Record<'method' | 'route' | 'status', string>;

/** One series: its count per bucket (not cumulative), its sum and count. */
interface Series {
  labels: SeriesLabels;
  buckets: Float64Array;
  sum: number;
  count: number;
}

/** A sample as prom-client's Registry formats it (what its own Histogram's `get()` returns). */
interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * The HTTP request histogram, kept as prom-client's Registry reads a metric (`name`, `help`,
 * `type`, `get()`), with the exposition of prom-client's own Histogram: `_bucket` (cumulative,
 * `le` first, then `+Inf`), `_sum` and `_count` per series. Every request observes it, so a
 * series is found through three Map lookups on values that are the same strings every time (the
 * route pattern, the method) and the status code, without building a label object or a hash
 * string: prom-client's `observe` validates, sorts and joins the labels and looks the bucket up
 * by a number turned into a string on every call, a few per cent of a small route's CPU time
 * (docs/performance.md).
 */
export class RequestDurationHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Map<string, Map<number, Series>>>();

  constructor(
    readonly name: string,
    readonly help: string,
    /** Upper bounds in seconds, ascending. */
    private readonly bounds: readonly number[],
  ) {}

  observe(method: string, route: string, status: number, seconds: number): void {
    if (!Number.isFinite(seconds)) return;
    let byMethod = this.series.get(route);
    if (byMethod === undefined) this.series.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (series === undefined) {
      series = {
        labels: { method, route, status: String(status) },
        buckets: new Float64Array(this.bounds.length),
        sum: 0,
        count: 0,
      };
      byStatus.set(status, series);
    }
    const bounds = this.bounds;
    for (let index = 0; index < bounds.length; index += 1) {
      if (seconds <= bounds[index]) {
        series.buckets[index] += 1;
        break;
      }
    }
    series.sum += seconds;
    series.count += 1;
  }

  /** What prom-client's Registry renders: the samples of every series. */
  get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    aggregator: 'sum';
    values: Sample[];
  }> {
    const values: Sample[] = [];
    for (const byMethod of this.series.values()) {
      for (const byStatus of byMethod.values()) {
        for (const series of byStatus.values()) values.push(...this.samplesOf(series));
      }
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }

  reset(): void {
    this.series.clear();
  }

  private samplesOf({ labels, buckets, sum, count }: Series): Sample[] {
    const bucket = `${this.name}_bucket`;
    let cumulative = 0;
    const samples: Sample[] = this.bounds.map((le, index) => {
      cumulative += buckets[index];
      return { metricName: bucket, labels: { le, ...labels }, value: cumulative };
    });
    samples.push(
      { metricName: bucket, labels: { le: '+Inf', ...labels }, value: count },
      { metricName: `${this.name}_sum`, labels: { ...labels }, value: sum },
      { metricName: `${this.name}_count`, labels: { ...labels }, value: count },
    );
    return samples;
  }
}
