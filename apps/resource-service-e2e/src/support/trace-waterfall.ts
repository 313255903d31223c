import type { ReceivedSpan } from '@tessera/platform-testing';

/** One colour per process, as a trace viewer gives them. */
const COLOURS: Record<string, string> = {
  gateway: '#59a14f',
  'auth-service': '#4e79a7',
  'resource-service': '#f28e2b',
};
/** OTLP's span kinds, as the viewer names them. */
const KINDS = ['', '', 'server', 'client', 'producer', 'consumer'];
/** Pool checkouts: one beside nearly every query, noise in a picture. */
const LEFT_OUT = new Set(['pg-pool.connect']);

const WIDTH = 1100;
const LABELS = 430;
const BARS = 600;
const ROW = 17;
const TOP = 62;

/**
 * A trace as a waterfall in SVG, drawn from the spans the services exported (what a viewer such
 * as Jaeger shows): a row per span in the order of the tree, indented by depth, coloured by
 * process. docs/images/trace-waterfall.svg is broker.spec.ts's trace drawn by this
 * (`TRACE_WATERFALL=docs/images/trace-waterfall.svg`, see docs/observability.md).
 */
export function traceWaterfall(spans: readonly ReceivedSpan[], title: string): string {
  const byId = new Map(spans.map((span) => [span.spanId, span]));
  const shown = spans.filter((span) => !LEFT_OUT.has(span.name));
  const children = new Map<string | undefined, ReceivedSpan[]>();
  for (const span of shown) {
    const parent = shownAncestor(span, byId);
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const rows: { span: ReceivedSpan; depth: number }[] = [];
  const visit = (parent: string | undefined, depth: number) => {
    const ordered = [...(children.get(parent) ?? [])].sort((a, b) => Number(a.startNs - b.startNs));
    for (const span of ordered) {
      rows.push({ span, depth });
      visit(span.spanId, depth + 1);
    }
  };
  visit(undefined, 0);

  const start = spans.reduce(
    (min, span) => (span.startNs < min ? span.startNs : min),
    spans[0].startNs,
  );
  const end = spans.reduce((max, span) => (span.endNs > max ? span.endNs : max), spans[0].endNs);
  const totalMs = Number(end - start) / 1e6;
  const x = (ns: bigint) => LABELS + (Number(ns - start) / 1e6 / totalMs) * BARS;
  const height = TOP + rows.length * ROW + 24;
  const step = [50, 100, 200, 250, 500, 1000, 2000, 5000].find((ms) => totalMs / ms <= 8) ?? 10000;
  const services = [...new Set(spans.map((span) => span.service))];

  const lines = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">${escape(title)}</text>`,
    `<text x="10" y="36" fill="#555">trace ${spans[0].traceId}, ${spans.length} spans over ${totalMs.toFixed(0)} ms (${spans.length - shown.length} pool checkouts not drawn), exported by the built services in apps/resource-service-e2e/src/broker.spec.ts</text>`,
    ...services.map(
      (service, index) =>
        `<rect x="${10 + index * 130}" y="44" width="10" height="10" fill="${colour(service)}"/><text x="${24 + index * 130}" y="53">${escape(service)}</text>`,
    ),
  ];
  for (let ms = 0; ms <= totalMs; ms += step) {
    const at = (LABELS + (ms / totalMs) * BARS).toFixed(1);
    lines.push(
      `<line x1="${at}" y1="${TOP - 4}" x2="${at}" y2="${height - 20}" stroke="#eee"/>`,
      `<text x="${at}" y="${height - 6}" fill="#777" text-anchor="middle">${ms} ms</text>`,
    );
  }
  rows.forEach(({ span, depth }, index) => {
    const y = TOP + index * ROW;
    const kind = KINDS[span.kind] ? ` (${KINDS[span.kind]})` : '';
    const left = x(span.startNs);
    const width = Math.max(1, x(span.endNs) - left);
    const ms = (Number(span.endNs - span.startNs) / 1e6).toFixed(1);
    lines.push(
      `<text x="${10 + depth * 12}" y="${y + 9}" fill="#222">${escape(truncate(span.name, 56 - depth * 2) + kind)}</text>`,
      `<rect x="${left.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="11" fill="${colour(span.service)}"><title>${escape(`${span.service}: ${span.name} ${ms} ms`)}</title></rect>`,
      `<text x="${Math.min(left + width + 4, WIDTH - 60).toFixed(1)}" y="${y + 9}" fill="#555">${ms} ms</text>`,
    );
  });
  lines.push('</svg>', '');
  return lines.join('\n');
}

/** The nearest ancestor that is drawn; undefined for a root (its parent is the caller's span). */
function shownAncestor(
  span: ReceivedSpan,
  byId: ReadonlyMap<string, ReceivedSpan>,
): string | undefined {
  let parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId);
  while (parent && LEFT_OUT.has(parent.name)) {
    parent = parent.parentSpanId === undefined ? undefined : byId.get(parent.parentSpanId);
  }
  return parent?.spanId;
}

function colour(service: string): string {
  return COLOURS[service] ?? '#999999';
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
