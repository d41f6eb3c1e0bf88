/** Anything thrown or rejected, as an Error: logs and escalation messages need a message and a stack. */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(`non-Error thrown: ${String(value)}`);
}
