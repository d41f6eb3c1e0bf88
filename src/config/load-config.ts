import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import {
  ConfigError,
  fileIssue,
  formatKey,
  issuesFromZod,
  withSource,
  type ConfigIssue,
  type SourceOf,
} from './config-error.js';
import { configKeyInfo, nodeConfigSchema, type NodeConfig } from './node-config-schema.js';
import { isSecretConfigKey, redactedText } from './redact-config.js';

export interface LoadConfigOptions {
  /** YAML file to start from; without one, every key comes from env, overrides or defaults. */
  file?: string;
  /** Where TRIB_* variables are read from; process.env when omitted. */
  env?: Record<string, string | undefined>;
  /** Values nested like the YAML (from CLI flags) that win over file and env; undefined = unset. */
  overrides?: object;
}

type KeyPath = readonly string[];

const envPrefix = 'TRIB_';
/** TRIB_* variables for client commands (docs/OPERATIONS.md), not config keys: a node ignores them. */
export const clientEnvironmentVariables: ReadonlySet<string> = new Set(['TRIB_BOOTSTRAP']);
const envFileSuffix = '_FILE';
const envSegmentPattern = /^[A-Z0-9]+(?:_[A-Z0-9]+)*$/;

/**
 * Reads the YAML file, deep-merges TRIB_* environment variables over it and then `overrides`, and
 * validates the result. Throws a ConfigError listing every problem found at the first stage that
 * fails (file, environment, validation).
 *
 * Environment: `TRIB_` + SNAKE_CASE keys joined by `__` (`TRIB_LOG__LEVEL=debug` sets log.level);
 * values are YAML (`3`, `true`, `[controller, broker]`). `TRIB_<KEY>_FILE=/path` sets <KEY> to the
 * trimmed contents of /path (Docker and Kubernetes secrets), unless <KEY>_FILE is itself a key
 * (TRIB_TLS__CERT_FILE sets tls.certFile). Variables apply in name order, so TRIB_LISTEN__GRPC
 * wins over TRIB_LISTEN.
 */
export function loadConfig(options: LoadConfigOptions = {}): NodeConfig {
  const fileValues = options.file === undefined ? {} : readConfigFile(options.file);
  const env = envLayer(options.env ?? process.env);
  const overrides = options.overrides ?? {};
  const merged = deepMerge(deepMerge(fileValues, env.values), overrides);
  const result = nodeConfigSchema.safeParse(merged, { reportInput: true });
  if (result.success) return result.data;
  const sourceOf = sourceFinder(sourcesNotOverridden(env.sources, overrides));
  throw new ConfigError(issuesFromZod(result.error.issues, sourceOf));
}

function readConfigFile(filePath: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (error) {
    throw configFileError(filePath, `could not be read: ${errorText(error)}`, error);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw configFileError(filePath, `is not valid YAML: ${yamlErrorText(error)}`, error);
  }
  // An empty file is an empty mapping: every key then comes from env, overrides or defaults.
  if (parsed === null || parsed === undefined) return {};
  if (isPlainObject(parsed)) return parsed;
  const problem = `holds ${JSON.stringify(parsed)} at the top level, not a mapping of config keys`;
  throw configFileError(filePath, problem, undefined);
}

function configFileError(filePath: string, problem: string, cause: unknown): ConfigError {
  const allowed = 'a readable YAML file holding a mapping of config keys';
  return new ConfigError([fileIssue('config', filePath, problem, allowed)], { cause });
}

interface EnvLayer {
  values: unknown;
  /** Dotted leaf key → the environment variable that set it. */
  sources: Map<string, string>;
}

function envLayer(env: Record<string, string | undefined>): EnvLayer {
  const layer: EnvLayer = { values: {}, sources: new Map() };
  const issues: ConfigIssue[] = [];
  const names = Object.keys(env).filter((name) => name.startsWith(envPrefix) && !clientEnvironmentVariables.has(name)).sort();
  for (const name of names) {
    const text = env[name];
    if (text === undefined) continue;
    const assignment = envAssignment(name, text);
    if ('issue' in assignment) {
      issues.push(assignment.issue);
      continue;
    }
    layer.values = deepMerge(layer.values, nestAt(assignment.path, assignment.value));
    for (const leaf of leafPaths(assignment.value, assignment.path)) {
      layer.sources.set(leaf.join('.'), `environment variable ${name}`);
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return layer;
}

type EnvAssignment = { path: KeyPath; value: unknown } | { issue: ConfigIssue };

function envAssignment(name: string, text: string): EnvAssignment {
  const source = `environment variable ${name}`;
  const segments = name.slice(envPrefix.length).split('__');
  if (!segments.every((segment) => envSegmentPattern.test(segment))) {
    const allowed = 'TRIB_ followed by SNAKE_CASE keys joined by __, e.g. TRIB_LOG__LEVEL';
    const message = `${source} is not a valid config variable name; allowed: ${allowed}`;
    return { issue: { key: name, value: text, allowed, message } };
  }
  const path = segments.map(camelCase);
  const target = secretFileTarget(segments);
  if (target === undefined) return parseEnvValue(source, path, text);
  try {
    return parseEnvValue(source, target, readFileSync(text, 'utf8').trim());
  } catch (error) {
    const allowed = `a readable file holding the value of ${formatKey(target)}`;
    const issue = fileIssue('secret', text, `could not be read: ${errorText(error)}`, allowed);
    return { issue: withSource(issue, source) };
  }
}

/** For `[..., "KEY_FILE"]` naming no key itself, the key the file fills; otherwise undefined. */
function secretFileTarget(segments: readonly string[]): KeyPath | undefined {
  const last = segments.at(-1) ?? '';
  if (!last.endsWith(envFileSuffix) || configKeyInfo(segments.map(camelCase)) !== undefined) return undefined;
  const target = [...segments.slice(0, -1), last.slice(0, -envFileSuffix.length)].map(camelCase);
  return configKeyInfo(target) === undefined ? undefined : target;
}

function parseEnvValue(source: string, path: KeyPath, text: string): EnvAssignment {
  try {
    return { path, value: parseYaml(text) as unknown };
  } catch (error) {
    const key = formatKey(path);
    const shown = isSecretConfigKey(path) ? redactedText : text;
    const allowed = 'a YAML value: quote strings with special characters, lists as [a, b]';
    const problem = `has value ${JSON.stringify(shown)}, which is not valid YAML (${yamlErrorText(error)})`;
    const message = `${source}: config key "${key}" ${problem}; allowed: ${allowed}`;
    return { issue: { key, value: shown, allowed, message } };
  }
}

/** `NODE_ID` → `nodeId`. */
function camelCase(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/** Env sources minus the keys that `overrides` replaced, so errors there do not blame the env. */
function sourcesNotOverridden(sources: ReadonlyMap<string, string>, overrides: object): Map<string, string> {
  const overriddenKeys = leafPaths(overrides).map((path) => path.join('.'));
  const isOverridden = (key: string): boolean =>
    overriddenKeys.some((overridden) => keysOverlap(key, overridden));
  return new Map([...sources].filter(([key]) => !isOverridden(key)));
}

function sourceFinder(sources: ReadonlyMap<string, string>): SourceOf {
  return (path) => {
    const key = path.filter((segment): segment is string => typeof segment === 'string').join('.');
    for (const [sourceKey, source] of sources) if (keysOverlap(key, sourceKey)) return source;
    return undefined;
  };
}

/** True when one dotted key is the other or lies inside it. */
function keysOverlap(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
}

function nestAt(path: KeyPath, value: unknown): unknown {
  return path.reduceRight<unknown>((nested, key) => ({ [key]: nested }), value);
}

/** Merges mappings key by key; anything else in `top` replaces `base`, except undefined. */
function deepMerge(base: unknown, top: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(top)) return top === undefined ? base : top;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(top)) {
    // defineProperty, not assignment: a "__proto__" key from YAML must stay a plain key.
    const property = { value: deepMerge(merged[key], value), enumerable: true, writable: true };
    Object.defineProperty(merged, key, { ...property, configurable: true });
  }
  return merged;
}

/** Paths to every non-mapping value inside `value`, each prefixed by `prefix`. */
function leafPaths(value: unknown, prefix: KeyPath = []): KeyPath[] {
  if (!isPlainObject(value)) return value === undefined ? [] : [prefix];
  return Object.entries(value).flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Turns "Map keys must be unique at line 2, column 1:\n<excerpt>" into "line 2, column 1: Map ...". */
function yamlErrorText(error: unknown): string {
  if (!(error instanceof YAMLParseError)) return errorText(error);
  const reason = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  const position = error.linePos?.[0];
  return position === undefined ? reason : `line ${position.line}, column ${position.col}: ${reason}`;
}
