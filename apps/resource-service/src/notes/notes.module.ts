import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Note } from './note.entity';
import { NotesController } from './notes.controller';
import { NotesService } from './notes.service';
import { UserEventsController } from './user-events.controller';

/** Its entity is listed in src/database/entities.ts; its table comes from src/database/migrations/. */
@Module({
  imports: [TypeOrmModule.forFeature([Note])],
  controllers: [NotesController, UserEventsController],
  providers: [NotesService],
})
export class NotesModule {}
