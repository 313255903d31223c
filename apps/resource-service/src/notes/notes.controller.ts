import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import {
  bearerTokenOf,
  CurrentPrincipal,
  RequireAuthentication,
} from '@tessera/auth-resource-server';
import { Scopes } from '@tessera/auth-token';
import type { Principal } from '@tessera/auth-token';
import { ApiErrors } from '@tessera/platform';
import type { FastifyRequest } from 'fastify';
import { CreateNoteDto } from './dto/create-note.dto';
import { ListNotesQueryDto } from './dto/list-notes-query.dto';
import { UpdateNoteDto } from './dto/update-note.dto';
import { NotePage, NoteView } from './note-view';
import { InvalidNoteIdException } from './notes.errors';
import { NotesService } from './notes.service';

/**
 * Deleting every note is the one step-up route (RFC 9470): the user must have signed in within the
 * hour, so a refresh token stolen long ago cannot wipe the account out.
 */
const RECENT_SIGN_IN = { maxAge: 3600 };
const NOTE_ID = new ParseUUIDPipe({ exceptionFactory: () => new InvalidNoteIdException() });
const NOTE_ID_PARAMETER = ApiParam({ name: 'id', format: 'uuid' });
const NO_SUCH_NOTE = {
  status: 404,
  description: "No such note, or another owner's (the same answer)",
};

export class DeletedNotes {
  @ApiProperty({ description: 'How many notes were deleted', example: 2 })
  deleted!: number;
}

/** The caller's notes (see NotesService for who may see and change what). */
@ApiTags('notes')
@ApiErrors({
  status: 503,
  description: 'The database is unavailable; `Retry-After` says when to try again',
})
@Controller('notes')
export class NotesController {
  constructor(private readonly notes: NotesService) {}

  @ApiOperation({
    summary: "The caller's notes, newest first, a page at a time",
    description: "With `all=true`, every owner's notes (the `admin` role only; 403 otherwise).",
  })
  @ApiOkResponse({ type: NotePage })
  @Scopes('notes:read')
  @Get()
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListNotesQueryDto,
  ): Promise<NotePage> {
    return this.notes.list(principal, query);
  }

  @ApiOperation({ summary: 'Writes a new note' })
  @ApiCreatedResponse({ type: NoteView })
  @Scopes('notes:write')
  @Post()
  create(@CurrentPrincipal() principal: Principal, @Body() body: CreateNoteDto): Promise<NoteView> {
    return this.notes.create(principal, body);
  }

  @ApiOperation({ summary: 'One note (an admin may read any)' })
  @ApiOkResponse({ type: NoteView })
  @ApiErrors(NO_SUCH_NOTE)
  @NOTE_ID_PARAMETER
  @Scopes('notes:read')
  @Get(':id')
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', NOTE_ID) id: string,
  ): Promise<NoteView> {
    return this.notes.get(principal, id);
  }

  @ApiOperation({ summary: "Changes a note's title, body or both (its owner only)" })
  @ApiOkResponse({ type: NoteView })
  @ApiErrors(NO_SUCH_NOTE)
  @NOTE_ID_PARAMETER
  @Scopes('notes:write')
  @Patch(':id')
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', NOTE_ID) id: string,
    @Body() body: UpdateNoteDto,
  ): Promise<NoteView> {
    return this.notes.update(principal, id, body);
  }

  /**
   * Every note of the caller, after auth-service confirms the session is still live; the sign-in
   * behind the token must be recent (step-up, RFC 9470).
   */
  @ApiOperation({
    summary: "Deletes every one of the caller's notes",
    description:
      'Asks auth-service first whether the token is still active; 503 when it cannot (or without AUTH_CLIENT_SECRET). The user must have signed in within the last hour (`auth_time`); an older sign-in gets 401 `insufficient_user_authentication` with `max_age=3600` (RFC 9470).',
  })
  @ApiOkResponse({ type: DeletedNotes })
  @ApiErrors({
    status: 401,
    description:
      'Also `insufficient_user_authentication` (RFC 9470, `max_age=3600`): the sign-in behind the token is over an hour old; sign in again',
  })
  @Scopes('notes:write')
  @RequireAuthentication(RECENT_SIGN_IN)
  @Delete()
  removeAll(
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
  ): Promise<{ deleted: number }> {
    return this.notes.removeAll(principal, bearerTokenOf(request) ?? '');
  }

  @ApiOperation({ summary: 'Deletes a note (its owner only)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(NO_SUCH_NOTE)
  @NOTE_ID_PARAMETER
  @Scopes('notes:write')
  @Delete(':id')
  @HttpCode(204)
  remove(
    @CurrentPrincipal() principal: Principal,
    @Param('id', NOTE_ID) id: string,
  ): Promise<void> {
    return this.notes.remove(principal, id);
  }
}
