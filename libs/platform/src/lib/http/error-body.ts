import { STATUS_CODES } from 'node:http';

/** The one error shape of every Tessera service (OAuth endpoints answer RFC 6749 bodies instead). */
export interface ErrorBody {
  statusCode: number;
  /** The HTTP reason phrase, or a stable machine-readable code such as `invalid_grant`. */
  error: string;
  message: string;
  requestId: string;
}

export function errorBody(
  statusCode: number,
  message: string,
  requestId: string,
  code?: string,
): ErrorBody {
  return {
    statusCode,
    error: code ?? STATUS_CODES[statusCode] ?? 'Error',
    message,
    requestId,
  };
}
