import { Command } from 'commander';
import { type ProduceAcks, Producer, type RecordMetadata, TributaryError } from '../client/index.js';
import { type ControllerFlags, controllerClientOptionsFrom, withControllerFlags } from './client-flags.js';
import { exitCodes } from './cli-error.js';
import { integerFlag } from './print-output.js';
import { failedRecordJson, producedRecordJson } from './record-output.js';
import { linesOf } from './stdin-lines.js';

interface ProduceFlags extends ControllerFlags {
  key?: string;
  acks: string;
  partition?: string;
  lingerMs: string;
}

const acksChoices: readonly ProduceAcks[] = ['all', 'leader', 'none'];

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
    .option('--partition <p>', 'send every record to this partition')
    .option('--linger-ms <ms>', 'how long a batch waits for more records', '5')
    .action((topic: string, flags: ProduceFlags) => produce(topic, flags));
}

interface Outcome {
  line: number;
  result: Promise<RecordMetadata>;
}

async function produce(topic: string, flags: ProduceFlags): Promise<void> {
  const acks = acksChoices.find((choice) => choice === flags.acks);
  if (acks === undefined) throw new Error(`--acks must be one of ${acksChoices.join(', ')}, got "${flags.acks}"`);
  const partition = flags.partition === undefined ? undefined : integerFlag('--partition', flags.partition, 0);
  const lingerMs = integerFlag('--linger-ms', flags.lingerMs, 0, 60_000);
  const producer = new Producer({ ...controllerClientOptionsFrom(flags), acks, lingerMs });
  const counts = { produced: 0, failed: 0 };
  const pending: Outcome[] = [];
  try {
    let line = 0;
    for await (const value of linesOf(process.stdin as AsyncIterable<Buffer>, lineBytesMax)) {
      line++;
      pending.push({ line, result: producer.sendRecord(topic, { key: flags.key, value, partition }) });
      while (pending.length >= linesInFlightMax) await report(pending.shift(), flags, counts);
    }
    while (pending.length > 0) await report(pending.shift(), flags, counts);
  } finally {
    await producer.close();
  }
  if (!flags.json) console.log(`produced ${counts.produced} record${counts.produced === 1 ? '' : 's'} to ${topic}${counts.failed === 0 ? '' : `; ${counts.failed} failed`}`);
  if (counts.failed > 0) process.exitCode = exitCodes.failed;
}

async function report(outcome: Outcome | undefined, flags: ProduceFlags, counts: { produced: number; failed: number }): Promise<void> {
  if (outcome === undefined) return;
  try {
    const metadata = await outcome.result;
    counts.produced++;
    if (flags.json) console.log(JSON.stringify(producedRecordJson(outcome.line, metadata)));
  } catch (error) {
    counts.failed++;
    const failure = TributaryError.from(error);
    if (flags.json) console.log(JSON.stringify(failedRecordJson(outcome.line, failure)));
    else console.error(`trib: line ${outcome.line}: ${failure.code}: ${failure.message}`);
  }
}
