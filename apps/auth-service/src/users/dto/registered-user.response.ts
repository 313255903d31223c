import { ApiProperty } from '@nestjs/swagger';

/** What `POST /auth/register` answers. */
export class RegisteredUserResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'email', example: 'ada@example.com' })
  email!: string;
}
