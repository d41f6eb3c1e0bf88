import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter, linesOf } from '../../../src/cli/stdin-lines.js';

/** The parts as a stream delivers them: each chunk after a turn of the event loop. */
async function* chunks(...parts: Buffer[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    await Promise.resolve();
    yield part;
  }
}

async function collect(input: AsyncIterable<Buffer>, lineBytesMax = 1_024): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of linesOf(input, lineBytesMax)) lines.push(line.toString('hex'));
  return lines;
}

const hex = (text: string) => Buffer.from(text, 'latin1').toString('hex');

describe('stdin lines for trib produce', () => {
  it('splits at newlines across chunks, drops a CR before LF, keeps empty lines and a last line without newline', async () => {
    const lines = await collect(chunks(Buffer.from('a\r\nb'), Buffer.from('c\n\n'), Buffer.from('last')));
    expect(lines).toEqual([hex('a'), hex('bc'), hex(''), hex('last')]);
    expect(await collect(chunks(Buffer.from('x\n')))).toEqual([hex('x')]);
    expect(await collect(chunks())).toEqual([]);
  });

  it('keeps bytes that are not UTF-8 exactly', async () => {
    expect(await collect(chunks(Buffer.from([0xff, 0xfe, 0x0a, 0x80])))).toEqual(['fffe', '80']);
  });

  it('gives back the input exactly, however it is chunked', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 10 }), async (parts) => {
      const input = Buffer.concat(parts.map((part) => Buffer.from(part)));
      const lines = [];
      for await (const line of linesOf(chunks(...parts.map((part) => Buffer.from(part))), 1_000)) lines.push(line);
      const expected = input.toString('latin1').split('\n').map((line) => line.replace(/\r$/, ''));
      if (expected.at(-1) === '') expected.pop();
      expect(lines.map((line) => line.toString('latin1'))).toEqual(expected);
    }));
  });

  it('refuses a line longer than the bound, naming its number', () => {
    const splitter = new LineSplitter(4);
    expect(splitter.push(Buffer.from('1234\n12'), 0)).toHaveLength(1);
    expect(() => splitter.push(Buffer.from('345'), 1)).toThrow('line 2 is longer than 4 bytes');
  });
});
