import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
} from 'class-validator';

export const TRACES_EXPORTERS = ['otlp', 'console', 'zipkin', 'none'] as const;
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
export const TRACES_SAMPLERS = [
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
  'always_on',
  'always_off',
  'traceidratio',
] as const;

/**
 * The standard OpenTelemetry variables a service validates (docs/observability.md). Tracing is
 * off unless OTEL_TRACES_EXPORTER is set; the SDK reads these, and every other standard `OTEL_*`
 * variable (OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_*, …), itself. Every
 * service's environment class inherits them through HttpServiceEnvironment.
 */
export class TracingEnvironment {
  /** `otlp`, `console` or `zipkin` turn tracing on; unset or `none`: off, and nothing loaded. */
  @IsOptional()
  @IsIn(TRACES_EXPORTERS, { message: `must be one of ${TRACES_EXPORTERS.join(', ')}` })
  OTEL_TRACES_EXPORTER?: (typeof TRACES_EXPORTERS)[number];

  /** The collector's base URL (`/v1/traces` is added for HTTP). Unset: http://localhost:4318. */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, {
    message: 'must be an http(s) URL such as http://otel-collector:4318',
  })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  /** How spans reach the collector. Unset: http/protobuf. */
  @IsOptional()
  @IsIn(OTLP_PROTOCOLS, { message: `must be one of ${OTLP_PROTOCOLS.join(', ')}` })
  OTEL_EXPORTER_OTLP_PROTOCOL?: (typeof OTLP_PROTOCOLS)[number];

  /** The `service.name` of its spans. Unset: the service's own name (auth-service, …). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  OTEL_SERVICE_NAME?: string;

  /** Which traces are kept. Unset: parentbased_always_on (all, or as the caller decided). */
  @IsOptional()
  @IsIn(TRACES_SAMPLERS, { message: `must be one of ${TRACES_SAMPLERS.join(', ')}` })
  OTEL_TRACES_SAMPLER?: (typeof TRACES_SAMPLERS)[number];

  /** The ratio a `traceidratio` sampler keeps, from 0 to 1. */
  @IsOptional()
  @Type(() => Number)
  @IsNumber({}, { message: 'must be a number from 0 to 1' })
  @Min(0, { message: 'must be a number from 0 to 1' })
  @Max(1, { message: 'must be a number from 0 to 1' })
  OTEL_TRACES_SAMPLER_ARG?: number;
}
