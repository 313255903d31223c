import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TokenIntrospectionClient } from '../introspection/token-introspection.client';
import { Note } from './note.entity';
import { NotesController } from './notes.controller';
import { NotesService } from './notes.service';

/** Needs `notesEntities` and `notesMigrations` (notes.persistence.ts) in the app's database. */
@Module({
  imports: [TypeOrmModule.forFeature([Note])],
  controllers: [NotesController],
  providers: [NotesService, TokenIntrospectionClient],
})
export class NotesModule {}
