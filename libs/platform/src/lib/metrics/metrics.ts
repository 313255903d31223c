import { Injectable } from '@nestjs/common';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { Metric } from 'prom-client';
import { RequestDurationHistogram } from './request-duration-histogram';

/** A counter as the code that counts sees it: no registry, no exposition. */
export interface MetricCounter<Label extends string = never> {
  /** Adds `value` (default 1) to the series with these labels (`{}` for a counter without any). */
  inc(labels: Record<Label, string>, value?: number): void;
}

/** Seconds; from a fast cached-token check to a slow password hash. */
const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The service's Prometheus metrics: one registry per application (not prom-client's global
 * one, so two applications in one process, as in tests, count apart). It holds the process
 * metrics prom-client collects (`process_*`, `nodejs_*`), the HTTP request histogram, and the
 * counters features define with {@link counter}. `GET /metrics` on the metrics listener
 * (MetricsServer) renders it.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class OrdersMetrics {
 *   readonly placed: MetricCounter<'channel'>;
 *   constructor(metrics: Metrics) {
 *     this.placed = metrics.counter('orders_placed_total', 'Orders placed, by channel', ['channel']);
 *   }
 * }
 * ```
 */
@Injectable()
export class Metrics {
  private readonly registry = new Registry();
  private readonly httpDuration = new RequestDurationHistogram(
    'tessera_http_request_duration_seconds',
    'HTTP requests by method, route pattern and status code, and how long they took',
    HTTP_DURATION_BUCKETS,
  );

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Read by the Registry as any of its metrics: `name`, `help`, `type` and `get()`.
    this.registry.registerMetric(this.httpDuration as unknown as Metric);
  }

  /**
   * The counter `name` of this registry, created on first use. `initial` label sets are exported
   * as 0 from the start, so a dashboard's rate() sees the first event.
   */
  counter<Label extends string = never>(
    name: string,
    help: string,
    labelNames: readonly Label[] = [],
    initial: readonly Record<Label, string>[] = [],
  ): MetricCounter<Label> {
    const existing = this.registry.getSingleMetric(name);
    if (existing !== undefined && !(existing instanceof Counter)) {
      throw new Error(`${name} is already a metric of another kind`);
    }
    const counter =
      existing ??
      new Counter<Label>({ name, help, labelNames: [...labelNames], registers: [this.registry] });
    const inc = (labels: Record<Label, string>, value = 1) =>
      (counter as Counter<Label>).inc(labels as Partial<Record<Label, string>>, value);
    if (existing === undefined) {
      for (const labels of labelNames.length === 0 ? [{} as Record<Label, string>] : initial) {
        inc(labels, 0);
      }
    }
    return { inc };
  }

  /** One finished HTTP request; `route` is the route's pattern (`/notes/:id`), never the URL. */
  observeHttpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe(method, route, status, seconds);
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
