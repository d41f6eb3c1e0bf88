import { secretConfigKeys, type NodeConfig } from './node-config-schema.js';

export const redactedText = '[redacted]';

/** True when the key at `path` is, or lies inside, a key listed in secretConfigKeys. */
export function isSecretConfigKey(path: readonly PropertyKey[]): boolean {
  // Array indexes do not change what a value is: every item of a secret list is secret.
  const names = path.filter((segment): segment is string => typeof segment === 'string');
  return names.some((_, index) => secretConfigKeys.has(names.slice(0, index + 1).join('.')));
}

/**
 * A deep copy of `config` that is safe to log: each secret value (each item of a secret list, so
 * the count stays visible) is replaced by "[redacted]".
 */
export function redactConfig(config: NodeConfig): unknown {
  return redactValue(config, []);
}

function redactValue(value: unknown, path: readonly string[]): unknown {
  if (value === undefined) return undefined;
  if (isSecretConfigKey(path)) {
    return Array.isArray(value) ? value.map(() => redactedText) : redactedText;
  }
  if (Array.isArray(value)) return value.map((item: unknown) => redactValue(item, path));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => [key, redactValue(child, [...path, key])]),
    );
  }
  return value;
}
