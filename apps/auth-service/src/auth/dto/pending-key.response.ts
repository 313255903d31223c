import { ApiProperty } from '@nestjs/swagger';

/** What `POST /admin/keys/rotate` answers: the next signing key, published but not yet signing. */
export class PendingKeyResponse {
  @ApiProperty()
  kid!: string;

  @ApiProperty({ format: 'date-time', description: 'When it starts to sign' })
  activates_at!: string;
}
