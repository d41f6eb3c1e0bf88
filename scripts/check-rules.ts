// The project's own architecture rules (docs/ARCHITECTURE.md), which a general linter cannot see:
//   1. Pure cores take time, randomness and I/O as inputs: no Node built-in I/O modules, no clock,
//      no timers, no global randomness, no process state, no gRPC or storage imports.
//   2. Layering: only src/rpc imports the generated protobuf code or @grpc/*; the client SDK and
//      the CLI reach the wire through src/rpc/clients.
// Run as `tsx scripts/check-rules.ts [root]`; exits 1 and lists every violation when any is found.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RuleViolation {
  file: string;
  line: number;
  rule: 'pure-core' | 'layering';
  message: string;
}

/** Folders whose code must be deterministic functions of their inputs. */
export const pureCoreDirectories = ['src/raft', 'src/controller', 'src/broker', 'src/pipeline/nodes'];

/** Node built-ins a pure core may import: they neither perform I/O nor read time or entropy. */
const pureBuiltinModules = new Set(['assert', 'assert/strict', 'buffer', 'util', 'string_decoder']);

const nodeBuiltinModules = new Set([
  'assert', 'assert/strict', 'async_hooks', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram',
  'diagnostics_channel', 'dns', 'events', 'fs', 'fs/promises', 'http', 'http2', 'https', 'inspector',
  'module', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'stream/promises',
  'string_decoder', 'timers', 'timers/promises', 'tls', 'tty', 'url', 'util', 'v8', 'vm',
  'worker_threads', 'zlib',
]);

/** Expressions that reach for the clock, timers, entropy or process state. */
const impureExpressions: ReadonlyArray<[RegExp, string]> = [
  [/\bDate\.now\s*\(/, 'Date.now() reads the clock; take a Clock or the current time as input'],
  [/\bnew\s+Date\s*\(\s*\)/, 'new Date() reads the clock; take a Clock or the current time as input'],
  [/\bperformance\.now\s*\(/, 'performance.now() reads the clock; take a Clock as input'],
  [/\bMath\.random\s*\(/, 'Math.random() is global randomness; take a Random as input'],
  [/\bcrypto\.(randomUUID|getRandomValues|randomBytes)\s*\(/, 'crypto randomness; take a Random as input'],
  [/\b(setTimeout|setInterval|setImmediate)\s*\(/, 'timers belong to the host; count ticks instead'],
  [/\bprocess\.(env|hrtime|argv|exit|nextTick|on)\b/, 'process state belongs to the host'],
];

const importPattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"]+)\1/g;

function listSourceFiles(directory: string): string[] {
  let entries;
  try {
    entries = readdirSync(directory, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : listSourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Blanks comments and string contents while keeping line numbers, so prose never trips a rule. */
function stripCommentsAndStrings(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|`(?:\\.|[^`\\])*`|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"/g, (text) =>
    text.startsWith('/') ? text.replace(/[^\n]/g, ' ') : text[0] + text.slice(1, -1).replace(/[^\n]/g, ' ') + text[0],
  );
}

function lineOf(source: string, index: number): number {
  return source.slice(0, index).split('\n').length;
}

function importsOf(source: string): Array<{ specifier: string; line: number }> {
  return [...source.matchAll(importPattern)].map((match) => ({
    specifier: match[2] ?? '',
    line: lineOf(source, match.index),
  }));
}

/** The repository-relative path an import points at, or the package name for bare specifiers. */
function importTarget(root: string, file: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  return relative(root, resolve(dirname(file), specifier)).split(sep).join('/');
}

function isUnder(path: string, directory: string): boolean {
  return path === directory || path.startsWith(`${directory}/`);
}

function checkPureCore(file: string, source: string, imports: ReturnType<typeof importsOf>, target: (s: string) => string): RuleViolation[] {
  const violations: RuleViolation[] = [];
  for (const { specifier, line } of imports) {
    const builtin = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
    const isBuiltin = specifier.startsWith('node:') || nodeBuiltinModules.has(specifier);
    if (isBuiltin && !pureBuiltinModules.has(builtin)) {
      violations.push({ file, line, rule: 'pure-core', message: `imports "${specifier}"; a pure core does no I/O` });
    }
    const path = target(specifier);
    if (path.startsWith('@grpc/') || isUnder(path, 'src/rpc') || isUnder(path, 'src/storage') || path.includes('rocksdb')) {
      violations.push({ file, line, rule: 'pure-core', message: `imports "${specifier}"; a pure core reaches no network or storage` });
    }
  }
  const code = stripCommentsAndStrings(source);
  code.split('\n').forEach((text, index) => {
    for (const [pattern, why] of impureExpressions) {
      if (pattern.test(text)) violations.push({ file, line: index + 1, rule: 'pure-core', message: why });
    }
  });
  return violations;
}

function checkLayering(file: string, imports: ReturnType<typeof importsOf>, target: (s: string) => string): RuleViolation[] {
  if (isUnder(file, 'src/rpc')) return [];
  return imports.flatMap(({ specifier, line }): RuleViolation[] => {
    const path = target(specifier);
    if (isUnder(path, 'src/rpc/generated')) {
      const via = isUnder(file, 'src/client') || isUnder(file, 'src/cli') ? '; go through src/rpc/clients' : '';
      return [{ file, line, rule: 'layering', message: `imports generated protobuf code "${specifier}"; only src/rpc may${via}` }];
    }
    if (path.startsWith('@grpc/')) {
      return [{ file, line, rule: 'layering', message: `imports "${specifier}"; only src/rpc talks gRPC` }];
    }
    return [];
  });
}

/** Every rule violation under `root`/src. */
export function checkRules(root: string): RuleViolation[] {
  return listSourceFiles(join(root, 'src')).flatMap((absolute) => {
    const file = relative(root, absolute).split(sep).join('/');
    const source = readFileSync(absolute, 'utf8');
    const imports = importsOf(stripCommentsOnly(source));
    const target = (specifier: string) => importTarget(root, absolute, specifier);
    const pure = pureCoreDirectories.some((directory) => isUnder(file, directory));
    return [...(pure ? checkPureCore(file, source, imports, target) : []), ...checkLayering(file, imports, target)];
  });
}

/** Import specifiers are strings, so for finding imports only comments are blanked. */
function stripCommentsOnly(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\/|(?<![:'"`])\/\/[^\n]*/g, (text) => text.replace(/[^\n]/g, ' '));
}

function main(): void {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const violations = checkRules(root);
  for (const violation of violations) {
    console.error(`${violation.file}:${violation.line}: [${violation.rule}] ${violation.message}`);
  }
  if (violations.length > 0) {
    console.error(`${violations.length} rule violation(s); see docs/ARCHITECTURE.md for the rules.`);
    process.exit(1);
  }
  console.log('check-rules: pure-core and layering rules hold.');
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
