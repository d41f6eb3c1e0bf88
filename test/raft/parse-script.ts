/**
 * The datadriven script format of etcd-io/raft's interaction tests. A script is a sequence of
 * blocks, separated by blank lines:
 *
 *   # comments, kept as they are when the script is rewritten
 *   command positional key=value key=(1,2,3)
 *   ----
 *   expected output, up to the next blank line
 *
 * Output never contains blank lines (the harness guarantees it), so a blank line always ends one.
 */

export interface ScriptBlock {
  /** Comment lines before the command, kept verbatim for rewriting. */
  readonly comments: readonly string[];
  readonly commandLine: string;
  /** 1-based line of the command in the script, for error messages. */
  readonly line: number;
  readonly expected: string;
}

const separator = '----';

export function parseScript(text: string, fileName: string): ScriptBlock[] {
  const lines = text.split('\n');
  const blocks: ScriptBlock[] = [];
  let comments: string[] = [];
  let at = 0;
  while (at < lines.length) {
    const line = lines[at] ?? '';
    if (line.trim() === '') {
      at += 1;
      continue;
    }
    if (line.startsWith('#')) {
      comments.push(line);
      at += 1;
      continue;
    }
    if (lines[at + 1] !== separator) {
      throw new Error(`${fileName}:${at + 1}: "${line}" must be followed by a "${separator}" line`);
    }
    const expected: string[] = [];
    let outputAt = at + 2;
    while (outputAt < lines.length && (lines[outputAt] ?? '').trim() !== '') {
      expected.push(lines[outputAt] ?? '');
      outputAt += 1;
    }
    blocks.push({ comments, commandLine: line, line: at + 1, expected: expected.join('\n') });
    comments = [];
    at = outputAt;
  }
  if (comments.length > 0) throw new Error(`${fileName}: comments after the last command`);
  return blocks;
}

/** The script with each block's expected output replaced by `outputs[i]`. */
export function renderScript(blocks: readonly ScriptBlock[], outputs: readonly string[]): string {
  if (blocks.length !== outputs.length) throw new Error('one output per block is required');
  return blocks
    .map((block, index) => [...block.comments, block.commandLine, separator, outputs[index] ?? ''].join('\n'))
    .join('\n\n')
    .concat('\n');
}
