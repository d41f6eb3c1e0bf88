import { Command } from 'commander';
import { type ProduceAcks, Producer, type RecordMetadata, TributaryError } from '../client/index.js';
import type { CompressionCodec } from '../rpc/clients/index.js';
import { type ControllerFlags, controllerClientOptionsFrom, withControllerFlags } from './client-flags.js';
import { exitCodes } from './cli-error.js';
import { integerFlag } from './print-output.js';
import { failedRecordJson, producedRecordJson } from './record-output.js';
import { linesOf } from './stdin-lines.js';

interface ProduceFlags extends ControllerFlags {
  key?: string;
  acks: string;
  compression?: string;
  partition?: string;
  lingerMs: string;
}

const acksChoices: readonly ProduceAcks[] = ['all', 'leader', 'none'];
const compressionChoices: readonly CompressionCodec[] = ['none', 'lz4', 'zstd'];

/** The longest stdin line taken as one record: the largest batch a broker accepts (docs/PROTOCOL.md §7). */
const lineBytesMax = 16 * 1024 * 1024;

/**
 * Lines read and not yet reported: a bound on the records held in memory between stdin and the
 * output, which is printed in line order. The producer's own buffer bounds the bytes.
 */
const linesInFlightMax = 10_000;

/** `trib produce TOPIC`: one record per stdin line (its bytes as they are, without the newline), batched as the SDK batches. */
export function produceCommand(): Command {
  return withControllerFlags(new Command('produce').argument('<topic>').description('send one record per line of standard input'))
    .option('--key <key>', 'key of every record (records are then placed by key hash)')
    .option('--acks <acks>', `durability to wait for: ${acksChoices.join(', ')}`, 'all')
    .option('--compression <codec>', `codec of every batch: ${compressionChoices.join(', ')} (default: the topic's compression)`)
    .option('--partition <p>', 'send every record to this partition')
    .option('--linger-ms <ms>', 'how long a batch waits for more records', '5')
    .action((topic: string, flags: ProduceFlags) => produce(topic, flags));
}

interface Outcome {
  readonly line: number;
  /** Set once the record is acknowledged or has failed. */
  settled: { metadata: RecordMetadata } | { failure: TributaryError } | undefined;
  readonly done: Promise<void>;
}

/**
 * Reports outcomes in stdin line order as soon as each line and all before it are settled, so an
 * interactive producer sees its lines acknowledged without waiting for the end of the input.
 */
class LineReporter {
  private readonly pending: Outcome[] = [];
  readonly counts = { produced: 0, failed: 0 };

  constructor(private readonly json: boolean) {}

  get waiting(): number {
    return this.pending.length;
  }

  add(line: number, result: Promise<RecordMetadata>): void {
    const outcome: Outcome = {
      line,
      settled: undefined,
      done: result.then(
        (metadata) => this.settle(outcome, { metadata }),
        (error: unknown) => this.settle(outcome, { failure: TributaryError.from(error) }),
      ),
    };
    this.pending.push(outcome);
  }

  /** Waits until the oldest line is reported. */
  async oldestReported(): Promise<void> {
    await this.pending[0]?.done;
  }

  async allReported(): Promise<void> {
    await Promise.all(this.pending.map((outcome) => outcome.done));
  }

  private settle(outcome: Outcome, settled: NonNullable<Outcome['settled']>): void {
    outcome.settled = settled;
    for (let head = this.pending[0]; head?.settled !== undefined; head = this.pending[0]) {
      this.pending.shift();
      this.print(head.line, head.settled);
    }
  }

  private print(line: number, settled: NonNullable<Outcome['settled']>): void {
    if ('metadata' in settled) {
      this.counts.produced++;
      if (this.json) console.log(JSON.stringify(producedRecordJson(line, settled.metadata)));
      return;
    }
    this.counts.failed++;
    if (this.json) console.log(JSON.stringify(failedRecordJson(line, settled.failure)));
    else console.error(`trib: line ${line}: ${settled.failure.code}: ${settled.failure.message}`);
  }
}

async function produce(topic: string, flags: ProduceFlags): Promise<void> {
  const acks = acksChoices.find((choice) => choice === flags.acks);
  if (acks === undefined) throw new Error(`--acks must be one of ${acksChoices.join(', ')}, got "${flags.acks}"`);
  const compression = compressionOf(flags.compression);
  const partition = flags.partition === undefined ? undefined : integerFlag('--partition', flags.partition, 0);
  const lingerMs = integerFlag('--linger-ms', flags.lingerMs, 0, 60_000);
  const producer = new Producer({ ...controllerClientOptionsFrom(flags), acks, compression, lingerMs });
  const reporter = new LineReporter(flags.json ?? false);
  try {
    let line = 0;
    for await (const value of linesOf(process.stdin as AsyncIterable<Buffer>, lineBytesMax)) {
      line++;
      reporter.add(line, producer.sendRecord(topic, { key: flags.key, value, partition }));
      while (reporter.waiting >= linesInFlightMax) await reporter.oldestReported();
    }
    await reporter.allReported();
  } finally {
    await producer.close();
  }
  const { produced, failed } = reporter.counts;
  if (!flags.json) console.log(`produced ${produced} record${produced === 1 ? '' : 's'} to ${topic}${failed === 0 ? '' : `; ${failed} failed`}`);
  if (failed > 0) process.exitCode = exitCodes.failed;
}

/** Unset: the Producer takes each topic's configured codec. */
function compressionOf(flag: string | undefined): CompressionCodec | undefined {
  if (flag === undefined) return undefined;
  const compression = compressionChoices.find((choice) => choice === flag);
  if (compression === undefined) throw new Error(`--compression must be one of ${compressionChoices.join(', ')}, got "${flag}"`);
  return compression;
}
