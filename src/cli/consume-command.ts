import { Command } from 'commander';
import { Admin, type ConnectionOptions, Consumer } from '../client/index.js';
import { type ControllerFlags, controllerClientOptionsFrom, withControllerFlags } from './client-flags.js';
import { integerFlag } from './print-output.js';
import { consumedRecordJson, consumedRecordLine } from './record-output.js';

interface ConsumeFlags extends ControllerFlags {
  partition?: string;
  fromBeginning?: boolean;
  max?: string;
  waitMs?: string;
}

/** A Fetch waits at most this long, so `--wait-ms` is honoured to about this much. */
const fetchWaitMsMax = 500;

/** `trib consume TOPIC`: prints records until --max of them or --wait-ms without a new one. */
export function consumeCommand(): Command {
  return withControllerFlags(new Command('consume').argument('<topic>').description('print the records of a topic, one per line'))
    .option('--partition <p>', 'read only this partition (default: all of them)')
    .option('--from-beginning', 'start at the oldest stored record instead of the high watermark')
    .option('--max <n>', 'exit after this many records')
    .option('--wait-ms <ms>', 'exit after this long without a new record (default: never)')
    .action((topic: string, flags: ConsumeFlags) => consume(topic, flags));
}

async function consume(topic: string, flags: ConsumeFlags): Promise<void> {
  const recordsMax = flags.max === undefined ? Number.POSITIVE_INFINITY : integerFlag('--max', flags.max, 1);
  const idleMsMax = flags.waitMs === undefined ? Number.POSITIVE_INFINITY : integerFlag('--wait-ms', flags.waitMs, 0);
  const connection = controllerClientOptionsFrom(flags);
  const partitions = await partitionsToRead(connection, topic, flags.partition);
  const consumer = new Consumer({ ...connection, fetchMaxWaitMs: Math.min(fetchWaitMsMax, idleMsMax) });
  try {
    consumer.assign(partitions.map((partition) => ({ topic, partition, offset: flags.fromBeginning ? 'earliest' : 'latest' })));
    let printed = 0;
    let lastRecordAtMs = Date.now();
    // At least one poll, so --wait-ms 0 still prints what is there now.
    do {
      const records = await consumer.poll();
      for (const record of records.slice(0, recordsMax - printed)) {
        console.log(flags.json ? JSON.stringify(consumedRecordJson(record)) : consumedRecordLine(record));
        printed++;
      }
      if (records.length > 0) lastRecordAtMs = Date.now();
    } while (printed < recordsMax && Date.now() - lastRecordAtMs < idleMsMax);
  } finally {
    consumer.close();
  }
}

/** The partitions to read: the one asked for (the consumer checks that it exists), or all of the topic's. */
async function partitionsToRead(connection: ConnectionOptions, topic: string, partitionFlag: string | undefined): Promise<number[]> {
  if (partitionFlag !== undefined) return [integerFlag('--partition', partitionFlag, 0)];
  const admin = new Admin(connection);
  try {
    const { topics } = await admin.describeTopics([topic]);
    const found = topics[0]?.topic;
    if (found === undefined) throw topics[0]?.error ?? new Error(`the controllers answered a lookup of topic "${topic}" without it`);
    return found.partitions.map((partition) => partition.partition);
  } finally {
    admin.close();
  }
}
