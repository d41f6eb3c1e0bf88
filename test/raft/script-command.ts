/**
 * One parsed command line: `name positional... key=value key=(1,2,3)`. A double-quoted token may
 * hold spaces. Handlers take what they understand; `assertAllUsed` then rejects typos, so a
 * misspelt option fails the script instead of being silently ignored.
 */
export class ScriptCommand {
  readonly name: string;
  readonly positionals: readonly string[];
  private readonly options = new Map<string, string>();
  private readonly usedOptions = new Set<string>();

  constructor(commandLine: string) {
    const tokens = tokenize(commandLine);
    const [name, ...rest] = tokens;
    if (name === undefined) throw new Error('empty command line');
    this.name = name;
    const positionals: string[] = [];
    for (const token of rest) {
      const equals = token.indexOf('=');
      if (equals > 0 && !token.startsWith('"')) this.options.set(token.slice(0, equals), token.slice(equals + 1));
      else positionals.push(unquote(token));
    }
    this.positionals = positionals;
  }

  positional(index: number, what: string): string {
    const value = this.positionals[index];
    if (value === undefined) throw new Error(`${this.name}: missing ${what} (argument ${index + 1})`);
    return value;
  }

  nodeId(index: number): number {
    return parseCount(this.positional(index, 'node id'), `${this.name} node id`);
  }

  /** All positionals from `index` on, as node ids. */
  nodeIds(from: number): number[] {
    return this.positionals.slice(from).map((value) => parseCount(value, `${this.name} node id`));
  }

  option(key: string): string | undefined {
    this.usedOptions.add(key);
    return this.options.get(key);
  }

  numberOption(key: string): number | undefined {
    const value = this.option(key);
    return value === undefined ? undefined : parseCount(value, `${this.name} ${key}`);
  }

  booleanOption(key: string): boolean | undefined {
    const value = this.option(key);
    if (value === undefined) return undefined;
    if (value !== 'true' && value !== 'false') throw new Error(`${this.name} ${key}: expected true or false, got "${value}"`);
    return value === 'true';
  }

  /** `key=(1,2,3)` or `key=2`. */
  idListOption(key: string): number[] | undefined {
    const value = this.option(key);
    if (value === undefined) return undefined;
    const inner = value.startsWith('(') && value.endsWith(')') ? value.slice(1, -1) : value;
    if (inner.trim() === '') return [];
    return inner.split(',').map((part) => parseCount(part.trim(), `${this.name} ${key}`));
  }

  assertAllUsed(): void {
    const unknown = [...this.options.keys()].filter((key) => !this.usedOptions.has(key));
    if (unknown.length > 0) throw new Error(`${this.name}: unknown option(s) ${unknown.join(', ')}`);
  }
}

function tokenize(line: string): string[] {
  return line.match(/"(?:\\.|[^"\\])*"|\S+/g) ?? [];
}

function unquote(token: string): string {
  return token.startsWith('"') ? (JSON.parse(token) as string) : token;
}

function parseCount(value: string, what: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`${what}: expected a non-negative integer, got "${value}"`);
  return Number(value);
}
