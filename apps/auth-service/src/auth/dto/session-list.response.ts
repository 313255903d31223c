import { ApiProperty } from '@nestjs/swagger';

export class SessionView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: Date;

  @ApiProperty({ type: String, format: 'date-time' })
  lastUsedAt!: Date;

  @ApiProperty({ type: String, nullable: true })
  userAgent!: string | null;

  @ApiProperty({ type: String, nullable: true })
  clientAddress!: string | null;

  @ApiProperty({ description: 'The session of the token that asked' })
  current!: boolean;
}

/** What `GET /auth/sessions` answers: the caller's live sessions. */
export class SessionListResponse {
  @ApiProperty({ type: [SessionView] })
  sessions!: SessionView[];
}
