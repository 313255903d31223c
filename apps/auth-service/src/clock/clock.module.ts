import { Module } from '@nestjs/common';
import { Clock } from './clock';

/** One Clock for the whole service: every module that reads the time imports this one. */
@Module({ providers: [Clock], exports: [Clock] })
export class ClockModule {}
