import { BadRequestException } from '@nestjs/common';

/**
 * 400 `invalid_target` (RFC 8707 §2): a `resource` the client may not have a token for, or more
 * audiences than the session was granted.
 */
export class InvalidTargetException extends BadRequestException {
  constructor(message: string) {
    super({ error: 'invalid_target', message });
  }
}
