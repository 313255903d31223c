import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, Matches } from 'class-validator';
import { MAX_RESOURCES, RESOURCE } from '../resource-indicators';

/**
 * RFC 8707 `resource` in a JSON body: one audience or an array of them, read as an array. The
 * length of each value is bounded by RESOURCE; whether it may be named is checked later.
 */
export function ResourceField(description: string): PropertyDecorator {
  return applyDecorators(
    IsOptional(),
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? [value] : value)),
    IsArray({ message: 'resource must be a string or an array of strings' }),
    ArrayMinSize(1, { message: 'resource must name at least one audience' }),
    ArrayMaxSize(MAX_RESOURCES, {
      message: `resource may name at most ${MAX_RESOURCES} audiences`,
    }),
    Matches(RESOURCE, {
      each: true,
      message: 'each resource must be an audience: 1 to 128 visible characters, no spaces',
    }),
    ApiPropertyOptional({
      description: `${description} RFC 8707: one audience, or an array of them.`,
      oneOf: [
        { type: 'string', pattern: RESOURCE.source, example: 'resource-service' },
        {
          type: 'array',
          items: { type: 'string', pattern: RESOURCE.source },
          minItems: 1,
          maxItems: MAX_RESOURCES,
          example: ['auth-service', 'resource-service'],
        },
      ],
    }),
  );
}
