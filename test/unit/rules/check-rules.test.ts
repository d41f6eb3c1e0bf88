import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkRules } from '../../../scripts/check-rules.js';

describe('project rule checker', () => {
  let root: string;
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const found = () => checkRules(root).map((v) => `${v.file}:${v.line} ${v.rule} ${v.message}`);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'trib-rules-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('accepts a pure core that takes time and randomness as inputs', () => {
    write('src/raft/node.ts', [
      "import assert from 'node:assert/strict';",
      "import type { Random } from './random.js';",
      '// Date.now() is never called here; ticks come from the host.',
      "const note = 'Math.random() would be wrong';",
      'export function tick(nowTicks: number, random: Random) { assert(nowTicks >= 0); return random.next() + note.length; }',
    ].join('\n'));
    expect(found()).toEqual([]);
  });

  it('rejects I/O modules, the clock, timers and global randomness in a pure core', () => {
    write('src/controller/apply.ts', [
      "import { readFileSync } from 'node:fs';",
      "import net from 'net';",
      'export const at = Date.now();',
      'export const r = Math.random();',
      'setTimeout(() => undefined, 5);',
      'export const env = process.env.X;',
    ].join('\n'));
    expect(found()).toEqual([
      'src/controller/apply.ts:1 pure-core imports "node:fs"; a pure core does no I/O',
      'src/controller/apply.ts:2 pure-core imports "net"; a pure core does no I/O',
      'src/controller/apply.ts:3 pure-core Date.now() reads the clock; take a Clock or the current time as input',
      'src/controller/apply.ts:4 pure-core Math.random() is global randomness; take a Random as input',
      'src/controller/apply.ts:5 pure-core timers belong to the host; count ticks instead',
      'src/controller/apply.ts:6 pure-core process state belongs to the host',
    ]);
  });

  it('rejects gRPC and storage imports in pipeline nodes', () => {
    write('src/pipeline/nodes/gain.ts', "import { Server } from '@grpc/grpc-js';\nimport { open } from '../../storage/rocksdb/open.js';\n");
    expect(found()).toEqual([
      'src/pipeline/nodes/gain.ts:1 pure-core imports "@grpc/grpc-js"; a pure core reaches no network or storage',
      'src/pipeline/nodes/gain.ts:2 pure-core imports "../../storage/rocksdb/open.js"; a pure core reaches no network or storage',
      'src/pipeline/nodes/gain.ts:1 layering imports "@grpc/grpc-js"; only src/rpc talks gRPC',
    ]);
  });

  it('lets only src/rpc import generated code, and sends the CLI through rpc/clients', () => {
    write('src/rpc/services/version-service.ts', "import { VersionInfo } from '../generated/tributary/pipeline/v1/pipeline.js';\n");
    write('src/cli/version.ts', "import { VersionInfo } from '../rpc/generated/tributary/pipeline/v1/pipeline.js';\nimport { connect } from '../rpc/clients/connect.js';\n");
    write('src/actors/fetch.ts', "const m = await import('../rpc/generated/x.js');\n");
    expect(found()).toEqual([
      'src/actors/fetch.ts:1 layering imports generated protobuf code "../rpc/generated/x.js"; only src/rpc may',
      'src/cli/version.ts:1 layering imports generated protobuf code "../rpc/generated/tributary/pipeline/v1/pipeline.js"; only src/rpc may; go through src/rpc/clients',
    ]);
  });

  it('leaves code outside the pure cores free to use the clock and I/O', () => {
    write('src/actors/raft-host.ts', "import { writeFile } from 'node:fs/promises';\nexport const now = Date.now();\n");
    expect(found()).toEqual([]);
  });
});
