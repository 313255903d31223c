import { BadRequestException, NotFoundException } from '@nestjs/common';

/**
 * A missing note and another owner's note get this same answer, so no caller can learn which ids
 * exist.
 */
export class NoteNotFoundException extends NotFoundException {
  constructor() {
    super({ error: 'note_not_found', message: 'No note with this id' });
  }
}

export class InvalidNoteIdException extends BadRequestException {
  constructor() {
    super({ error: 'invalid_note_id', message: 'id must be a UUID' });
  }
}

export class InvalidCursorException extends BadRequestException {
  constructor() {
    super({
      error: 'invalid_cursor',
      message:
        'cursor must be the nextCursor of a previous page, unchanged; leave it out to start from the newest note',
    });
  }
}

export class EmptyNoteUpdateException extends BadRequestException {
  constructor() {
    super({ error: 'empty_update', message: 'Send title, body or both to change a note' });
  }
}
