/** The W3C trace context headers, which an outgoing request's instrumentation writes itself. */
const TRACE_CONTEXT_HEADERS = new Set(['traceparent', 'tracestate']);

/** An undici request as its diagnostics channel shows it: headers as `name, value` pairs or raw lines. */
export interface OutgoingRequestHeaders {
  headers: string | (string | string[])[];
}

/**
 * Removes `traceparent` and `tracestate` from an outgoing request before the undici
 * instrumentation adds this process's own. A proxy (the gateway) forwards its caller's headers,
 * those two included; the instrumentation appends rather than replaces, and a receiver given two
 * `traceparent` values reads neither and starts a trace of its own. What replaces them is the
 * client span, a descendant of the caller's span: the trace goes on.
 */
export function dropForwardedTraceHeaders(request: OutgoingRequestHeaders): void {
  const { headers } = request;
  if (Array.isArray(headers)) {
    for (let index = headers.length - 2; index >= 0; index -= 2) {
      if (TRACE_CONTEXT_HEADERS.has(String(headers[index]).toLowerCase())) {
        headers.splice(index, 2);
      }
    }
  } else if (typeof headers === 'string') {
    request.headers = headers
      .split('\r\n')
      .filter((line) => !TRACE_CONTEXT_HEADERS.has(line.split(':', 1)[0].trim().toLowerCase()))
      .join('\r\n');
  }
}
