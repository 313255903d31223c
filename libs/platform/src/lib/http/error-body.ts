import { STATUS_CODES } from 'node:http';

/** The one error shape of every Tessera service (OAuth endpoints answer RFC 6749 bodies instead). */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  requestId: string;
}

export function errorBody(statusCode: number, message: string, requestId: string): ErrorBody {
  return {
    statusCode,
    error: STATUS_CODES[statusCode] ?? 'Error',
    message,
    requestId,
  };
}
