/**
 * Splits a byte stream into lines at `\n` (a `\r` before it is dropped too), keeping every other
 * byte as it is: a line that is not valid UTF-8 stays the bytes it was. A line longer than
 * `lineBytesMax` is an error naming its number, since it would be held in memory whole.
 */
export class LineSplitter {
  private readonly parts: Buffer[] = [];
  private partBytes = 0;

  constructor(private readonly lineBytesMax: number) {}

  /** The lines that `chunk` completes, in order. */
  push(chunk: Buffer, lineNumber: number): Buffer[] {
    const lines: Buffer[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(0x0a, start); newline >= 0; newline = chunk.indexOf(0x0a, start)) {
      this.add(chunk.subarray(start, newline), lineNumber + lines.length + 1);
      lines.push(withoutCarriageReturn(this.take()));
      start = newline + 1;
    }
    if (start < chunk.length) this.add(chunk.subarray(start), lineNumber + lines.length + 1);
    return lines;
  }

  /** The last line when the input did not end with a newline; undefined when it did. */
  end(): Buffer | undefined {
    return this.partBytes === 0 && this.parts.length === 0 ? undefined : withoutCarriageReturn(this.take());
  }

  private add(part: Buffer, lineNumber: number): void {
    this.partBytes += part.length;
    if (this.partBytes > this.lineBytesMax) throw new Error(`line ${lineNumber} is longer than ${this.lineBytesMax} bytes`);
    // Copied: the stream may reuse its chunk's memory once this returns.
    if (part.length > 0) this.parts.push(Buffer.from(part));
  }

  private take(): Buffer {
    const line = Buffer.concat(this.parts, this.partBytes);
    this.parts.length = 0;
    this.partBytes = 0;
    return line;
  }
}

/** Every line of `input` as bytes. */
export async function* linesOf(input: AsyncIterable<Buffer>, lineBytesMax: number): AsyncGenerator<Buffer> {
  const splitter = new LineSplitter(lineBytesMax);
  let lineNumber = 0;
  for await (const chunk of input) {
    for (const line of splitter.push(chunk, lineNumber)) {
      lineNumber++;
      yield line;
    }
  }
  const last = splitter.end();
  if (last !== undefined) yield last;
}

function withoutCarriageReturn(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, -1) : line;
}
