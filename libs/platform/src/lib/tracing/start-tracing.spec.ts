import { startTracing, stopTracing, tracingStarted } from './start-tracing';
import { injectTraceContext, runWithTraceContext } from './trace-context';

let exit: jest.SpyInstance;
let stderr: jest.SpyInstance;

beforeEach(() => {
  exit = jest.spyOn(process, 'exit').mockImplementation((code) => {
    throw new Error(`exit ${String(code)}`);
  });
  stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(async () => {
  jest.restoreAllMocks();
  await stopTracing();
});

describe('startTracing', () => {
  it.each([{}, { OTEL_TRACES_EXPORTER: '' }, { OTEL_TRACES_EXPORTER: 'none' }])(
    'leaves tracing off with %j',
    (environment) => {
      startTracing('orders-service', environment);
      expect(tracingStarted()).toBe(false);
    },
  );

  it('stays off when OTEL_SDK_DISABLED is true, whatever the exporter', () => {
    startTracing('orders-service', { OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' });
    expect(tracingStarted()).toBe(false);
  });

  it.each([
    ['OTEL_TRACES_EXPORTER', { OTEL_TRACES_EXPORTER: 'jaeger' }],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', { OTEL_EXPORTER_OTLP_ENDPOINT: 'tcp://10.0.0.9:4318' }],
    ['OTEL_TRACES_SAMPLER_ARG', { OTEL_TRACES_SAMPLER_ARG: '2' }],
  ])('exits 1 naming %s, and not its value, when it is invalid', (variable, bad) => {
    expect(() => startTracing('orders-service', { OTEL_TRACES_EXPORTER: 'otlp', ...bad })).toThrow(
      'exit 1',
    );
    const message = stderr.mock.calls.map(([text]) => String(text)).join('');
    expect(message).toMatch(
      new RegExp(`^orders-service: Invalid configuration.*\\n  ${variable}: `, 's'),
    );
    expect(message).not.toContain(Object.values(bad)[0]);
    expect(exit).toHaveBeenCalledWith(1);
    expect(tracingStarted()).toBe(false);
  });
});

describe('the message functions with tracing off', () => {
  it('pass headers and handlers through, the OpenTelemetry API never registered', async () => {
    startTracing('orders-service', {});
    expect(injectTraceContext({ id: '1' })).toEqual({ id: '1' });
    await expect(runWithTraceContext({}, 'process', () => 'handled')).resolves.toBe('handled');
    expect(Symbol.for('opentelemetry.js.api.1') in globalThis).toBe(false);
  });
});
