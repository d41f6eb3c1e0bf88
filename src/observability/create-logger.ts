import { createRequire } from 'node:module';
import { pino } from 'pino';
import type PinoPretty from 'pino-pretty';
import { requestContextMixin } from './request-context.js';

export type Logger = pino.Logger;

export interface LoggerOptions {
  level: string;
  /** Human-readable output through pino-pretty; falls back to JSON when it is not installed. */
  pretty: boolean;
  /** The `name` field of every line; defaults to 'trib'. */
  name?: string;
  /** Where lines go; defaults to stdout. */
  destination?: pino.DestinationStream;
}

const nameDefault = 'trib';

/**
 * Creates the root logger of a process. Every line carries `name`, `pid`, `hostname`, an ISO
 * `time` and, inside `runWithRequestContext`, the request's ids (children inherit the mixin).
 */
export function createLogger(options: LoggerOptions): Logger {
  assertLevelKnown(options.level);
  const loggerOptions: pino.LoggerOptions = {
    name: options.name ?? nameDefault,
    level: options.level,
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: requestContextMixin,
  };
  if (!options.pretty) return pino(loggerOptions, jsonDestination(options.destination));
  const pretty = loadPinoPretty();
  if (pretty instanceof Error) {
    const logger = pino(loggerOptions, jsonDestination(options.destination));
    const message = 'pino-pretty (a dev dependency) is not installed; logging JSON instead';
    logger.warn({ reason: pretty.message }, message);
    return logger;
  }
  return pino(loggerOptions, pretty({ destination: options.destination ?? 1 }));
}

/** A child logger for one component (`raft-host`, `broker`, ...); its lines carry `component`. */
export function componentLogger(parent: Logger, component: string): Logger {
  return parent.child({ component });
}

function assertLevelKnown(level: string): void {
  if (Object.hasOwn(pino.levels.values, level) || level === 'silent') return;
  const known = [...Object.keys(pino.levels.values), 'silent'].join(', ');
  throw new Error(`log level "${level}" is unknown; use one of ${known}`);
}

function jsonDestination(destination: pino.DestinationStream | undefined): pino.DestinationStream {
  // Synchronous writes to stdout so that the last lines before a crash are not lost.
  return destination ?? pino.destination({ dest: 1, sync: true });
}

/**
 * pino-pretty is a dev dependency, so a production install may lack it. It is loaded with
 * `require` because it is CommonJS and because logger creation must stay synchronous.
 */
function loadPinoPretty(): typeof PinoPretty | Error {
  try {
    return createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  } catch (error: unknown) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
