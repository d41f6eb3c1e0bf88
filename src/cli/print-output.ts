/** Prints a command's result: one JSON document with --json, else the human lines. */
export function printOutput(json: boolean | undefined, value: unknown, humanLines: () => string[]): void {
  if (json) console.log(JSON.stringify(value));
  else for (const line of humanLines()) console.log(line);
}

/** An integer flag in [min, max]; the error names the flag and the bad value. */
export function integerFlag(flag: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new Error(`${flag} must be an integer ${range}, got "${text}"`);
  }
  return value;
}

/** Collects a repeatable flag's values in order. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
