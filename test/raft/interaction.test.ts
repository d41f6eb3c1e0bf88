/**
 * etcd-io/raft-style interaction tests: every script under testdata/ is one test whose expected
 * output is the trace. `REWRITE=1 npx vitest run test/raft` writes the actual traces back into the
 * scripts; review every changed line for Raft-correctness before keeping it.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScript, renderScript } from './parse-script.js';
import { panicPrefix, runScript } from './run-script.js';

const testdataDirectory = join(import.meta.dirname, 'testdata');
const scripts = readdirSync(testdataDirectory).filter((name) => name.endsWith('.txt')).sort();
const rewrite = process.env.REWRITE === '1';

describe('raft interaction scripts', () => {
  it.each(scripts)('%s', (name) => {
    const path = join(testdataDirectory, name);
    const text = readFileSync(path, 'utf8');
    const blocks = parseScript(text, name);
    const outputs = runScript(blocks);
    const actual = renderScript(blocks, outputs);
    if (rewrite) writeFileSync(path, actual);
    else expect(actual, `${name} (REWRITE=1 updates it; review the diff)`).toBe(text);
    const panics = outputs.filter((output) => output.includes(panicPrefix));
    expect(panics, `${name}: the harness or the core threw`).toEqual([]);
  });
});
