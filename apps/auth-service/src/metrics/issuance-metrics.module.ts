import { Module } from '@nestjs/common';
import { IssuanceMetrics } from './issuance-metrics';

/** auth-service's own counters (IssuanceMetrics), for the features that issue and end things. */
@Module({ providers: [IssuanceMetrics], exports: [IssuanceMetrics] })
export class IssuanceMetricsModule {}
