import { BadRequestException } from '@nestjs/common';

/** 400 `invalid_scope` (RFC 6749 §5.2): more scope than the client or session may have (F6). */
export class InvalidScopeException extends BadRequestException {
  constructor(message: string) {
    super({ error: 'invalid_scope', message });
  }
}
