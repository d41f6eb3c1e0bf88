import { TributaryError } from '../errors/index.js';
import { type ClientTlsFiles, clientDeadlineMsDefault, type ControllerClientOptions } from '../rpc/clients/index.js';
import type { RetryPolicy } from './retry-policy.js';

/** How an SDK client reaches the cluster: the controllers to start from, and how to connect. */
export interface ConnectionOptions {
  /** Controller addresses, "host:port"; the client finds the leader and the brokers from them. */
  bootstrap: readonly string[];
  /** Name in every request header and in the servers' logs. */
  clientId?: string;
  /** Deadline of each call (a long-poll Fetch gets its wait on top). */
  deadlineMs?: number;
  tls?: ClientTlsFiles;
  /** Bearer token for clusters with authentication. */
  token?: string;
}

export function controllerOptionsOf(options: ConnectionOptions, defaultClientId: string): ControllerClientOptions {
  if (options.bootstrap.length === 0) throw new TributaryError('INVALID_REQUEST', 'bootstrap must list at least one controller address "host:port"');
  return {
    bootstrap: [...options.bootstrap],
    clientId: options.clientId ?? defaultClientId,
    deadlineMs: integerOption('deadlineMs', options.deadlineMs, clientDeadlineMsDefault, 1, 3_600_000),
    tls: options.tls,
    token: options.token,
  };
}

/**
 * A numeric option: its default when unset, else an integer in [min, max]. INVALID_REQUEST names
 * the option, the bad value and the range.
 */
export function integerOption(name: string, value: number | undefined, defaultValue: number, min: number, max: number): number {
  if (value === undefined) return defaultValue;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new TributaryError('INVALID_REQUEST', `option ${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** Most retries any client may ask for; a producer's delivery timeout usually ends them first. */
export const clientRetriesMax = 1_000;

/** The retry bounds a Producer or Consumer takes from its options, with their defaults. */
export function retryPolicyOf(
  options: { retriesMax?: number | undefined; backoffMsMin?: number | undefined; backoffMsMax?: number | undefined },
  retriesMaxDefault = 10,
): RetryPolicy {
  const backoffMsMin = integerOption('backoffMsMin', options.backoffMsMin, 100, 1, 600_000);
  return {
    retriesMax: integerOption('retriesMax', options.retriesMax, retriesMaxDefault, 0, clientRetriesMax),
    backoffMsMin,
    backoffMsMax: integerOption('backoffMsMax', options.backoffMsMax, Math.max(1_000, backoffMsMin), backoffMsMin, 600_000),
  };
}
