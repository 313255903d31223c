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
import { bearerTokenOf, CurrentPrincipal, Scopes } from '@tessera/auth';
import type { Principal } from '@tessera/auth';
import type { FastifyRequest } from 'fastify';
import { CreateNoteDto } from './dto/create-note.dto';
import { ListNotesQueryDto } from './dto/list-notes-query.dto';
import { UpdateNoteDto } from './dto/update-note.dto';
import type { NotePage, NoteView } from './note-view';
import { InvalidNoteIdException } from './notes.errors';
import { NotesService } from './notes.service';

const NOTE_ID = new ParseUUIDPipe({ exceptionFactory: () => new InvalidNoteIdException() });

/** The caller's notes (see NotesService for who may see and change what). */
@Controller('notes')
export class NotesController {
  constructor(private readonly notes: NotesService) {}

  @Scopes('notes:read')
  @Get()
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListNotesQueryDto,
  ): Promise<NotePage> {
    return this.notes.list(principal, query);
  }

  @Scopes('notes:write')
  @Post()
  create(@CurrentPrincipal() principal: Principal, @Body() body: CreateNoteDto): Promise<NoteView> {
    return this.notes.create(principal, body);
  }

  @Scopes('notes:read')
  @Get(':id')
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', NOTE_ID) id: string,
  ): Promise<NoteView> {
    return this.notes.get(principal, id);
  }

  @Scopes('notes:write')
  @Patch(':id')
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', NOTE_ID) id: string,
    @Body() body: UpdateNoteDto,
  ): Promise<NoteView> {
    return this.notes.update(principal, id, body);
  }

  /** Every note of the caller, after auth-service confirms the session is still live. */
  @Scopes('notes:write')
  @Delete()
  removeAll(
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
  ): Promise<{ deleted: number }> {
    return this.notes.removeAll(principal, bearerTokenOf(request) ?? '');
  }

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
