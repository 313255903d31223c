import { dropForwardedTraceHeaders } from './forwarded-trace-headers';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('dropForwardedTraceHeaders', () => {
  it('removes a forwarded traceparent and tracestate from name-value pairs, and keeps the rest', () => {
    const request = {
      headers: [
        'x-request-id',
        'abc',
        'traceparent',
        TRACEPARENT,
        'TraceState',
        'vendor=1',
        'baggage',
        'k=v',
      ],
    };
    dropForwardedTraceHeaders(request);
    expect(request.headers).toEqual(['x-request-id', 'abc', 'baggage', 'k=v']);
  });

  it('removes them from raw header lines too', () => {
    const request = {
      headers: `host: a\r\nTraceparent: ${TRACEPARENT}\r\ntracestate: vendor=1\r\naccept: */*\r\n`,
    };
    dropForwardedTraceHeaders(request);
    expect(request.headers).toBe('host: a\r\naccept: */*\r\n');
  });

  it('leaves a request without trace headers as it was', () => {
    const request = { headers: ['accept', '*/*'] };
    dropForwardedTraceHeaders(request);
    expect(request.headers).toEqual(['accept', '*/*']);
  });
});
