import type { z } from 'zod';
import { configKeyInfo } from './node-config-schema.js';
import { isSecretConfigKey, redactedText } from './redact-config.js';

/** One problem with the configuration, as data and as a sentence. */
export interface ConfigIssue {
  /**
   * Dotted key such as `listen.grpc` or `controller.quorum[0].id`; `<file>` for file problems; the
   * variable's name for a malformed TRIB_* variable name.
   */
  readonly key: string;
  /** The offending value ("[redacted]" for secrets); undefined when the key is missing. */
  readonly value: unknown;
  /** What the key accepts, in words. */
  readonly allowed: string;
  /** The whole sentence, starting with where the value came from when that is not the file. */
  readonly message: string;
}

/**
 * Thrown when the configuration cannot be read or is invalid. The message has one line per issue;
 * `key`, `value` and `allowed` describe the first one, which is also the first line.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly key: string;
  readonly value: unknown;
  readonly allowed: string;
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    const first = issues[0];
    if (first === undefined) throw new RangeError('ConfigError needs at least one issue');
    super(issues.map((issue) => issue.message).join('\n'), options);
    this.key = first.key;
    this.value = first.value;
    this.allowed = first.allowed;
    this.issues = issues;
  }
}

/** Attributes a key to the place its value came from, e.g. "environment variable TRIB_NODE_ID". */
export type SourceOf = (path: readonly PropertyKey[]) => string | undefined;

/** `["controller", "quorum", 0, "id"]` → `controller.quorum[0].id`. */
export function formatKey(path: readonly PropertyKey[]): string {
  return path
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      return index === 0 ? String(segment) : `.${String(segment)}`;
    })
    .join('');
}

const valueTextMax = 120;

function formatValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > valueTextMax ? `${text.slice(0, valueTextMax)}…` : text;
}

/** An issue about the value of one key; secret values are redacted before they get near a log. */
export function valueIssue(path: readonly PropertyKey[], value: unknown, allowed: string): ConfigIssue {
  const key = formatKey(path);
  const shown = value !== undefined && isSecretConfigKey(path) ? redactedText : value;
  const problem = shown === undefined ? 'is missing' : `has value ${formatValue(shown)}`;
  return { key, value: shown, allowed, message: `config key "${key}" ${problem}; allowed: ${allowed}` };
}

/** An issue about a key the schema does not have. */
export function unknownKeyIssue(
  path: readonly PropertyKey[],
  value: unknown,
  knownKeys: readonly string[],
): ConfigIssue {
  const key = formatKey(path);
  const parentKey = formatKey(path.slice(0, -1));
  const allowed = knownKeys.join(', ');
  const where = parentKey === '' ? 'allowed top-level keys' : `allowed keys at "${parentKey}"`;
  return { key, value, allowed, message: `config key "${key}" is not a known key; ${where}: ${allowed}` };
}

/** An issue about a whole file: `kind` says which ("config", "secret"), `problem` what went wrong. */
export function fileIssue(kind: string, filePath: string, problem: string, allowed: string): ConfigIssue {
  return { key: '<file>', value: filePath, allowed, message: `${kind} file "${filePath}" ${problem}` };
}

/** Prefixes the issue's message with where its value came from. */
export function withSource(issue: ConfigIssue, source: string | undefined): ConfigIssue {
  return source === undefined ? issue : { ...issue, message: `${source}: ${issue.message}` };
}

/** Maps zod issues (parsed with `reportInput: true`) to ConfigIssues, one per bad key. */
export function issuesFromZod(issues: readonly z.core.$ZodIssue[], sourceOf: SourceOf): ConfigIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const knownKeys = configKeyInfo(issue.path)?.knownKeys ?? [];
      return issue.keys.map((name) => {
        const path = [...issue.path, name];
        return withSource(unknownKeyIssue(path, issue.input?.[name], knownKeys), sourceOf(path));
      });
    }
    return [withSource(valueIssue(issue.path, issue.input, allowedText(issue)), sourceOf(issue.path))];
  });
}

function allowedText(issue: z.core.$ZodIssue): string {
  // Cross-key rules put their explanation in the message; enums list their options.
  if (issue.code === 'custom') return issue.message;
  if (issue.code === 'invalid_value') return `one of ${issue.values.map(String).join(', ')}`;
  const info = configKeyInfo(issue.path);
  if (info?.description !== undefined) return info.description;
  if (info?.knownKeys !== undefined) return `a mapping with keys ${info.knownKeys.join(', ')}`;
  return issue.message;
}
