import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';

export class TotpCodeDto {
  @IsString()
  @Matches(/^\d{6}$/, { message: 'code must be the six digits the authenticator app shows' })
  @ApiProperty({ pattern: '^\\d{6}$', example: '492039' })
  code!: string;
}
