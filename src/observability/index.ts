export { componentLogger, createLogger } from './create-logger.js';
export type { Logger, LoggerOptions } from './create-logger.js';
export { currentRequestContext, requestContextMixin, runOutsideRequestContext, runWithRequestContext } from './request-context.js';
export type { RequestContext, RequestLogFields } from './request-context.js';
export { createMetricsRegistry, MetricsRegistry, rpcDurationBucketsSeconds } from './metrics-registry.js';
export type { MetricsRegistryOptions } from './metrics-registry.js';
export { startHttpEndpoint } from './http-endpoint.js';
export type {
  HttpEndpoint,
  HttpEndpointOptions,
  ReadinessCheck,
  ReadinessProbe,
  ReadinessReport,
} from './http-endpoint.js';
