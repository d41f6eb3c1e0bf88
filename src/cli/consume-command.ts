import { Command } from 'commander';
import { Admin, type ConnectionOptions, Consumer, type ConsumerRecord, type PartitionsEvent } from '../client/index.js';
import { type ControllerFlags, controllerClientOptionsFrom, withControllerFlags } from './client-flags.js';
import { integerFlag } from './print-output.js';
import { consumedRecordJson, consumedRecordLine } from './record-output.js';

interface ConsumeFlags extends ControllerFlags {
  partition?: string;
  fromBeginning?: boolean;
  max?: string;
  waitMs?: string;
  group?: string;
  sessionTimeoutMs?: string;
}

/** A Fetch waits at most this long, so `--wait-ms` is honoured to about this much. */
const fetchWaitMsMax = 500;

/** How often a group member commits what it printed. */
const groupAutoCommitIntervalMs = 1_000;

/** `trib consume TOPIC`: prints records until --max of them or --wait-ms without a new one. */
export function consumeCommand(): Command {
  return withControllerFlags(new Command('consume').argument('<topic>').description('print the records of a topic, one per line'))
    .option('--partition <p>', 'read only this partition (default: all of them)')
    .option('--from-beginning', 'start at the oldest stored record instead of the high watermark (with --group: where the group committed nothing)')
    .option('--max <n>', 'exit after this many records')
    .option('--wait-ms <ms>', 'exit after this long without a new record (default: never)')
    .option('--group <group>', 'consume as a member of this consumer group: its share of the partitions, from the committed offsets, committing as it goes')
    .option('--session-timeout-ms <ms>', 'with --group: how long the group waits for a silent member before it reassigns its partitions', '30000')
    .action((topic: string, flags: ConsumeFlags) => (flags.group === undefined ? consume(topic, flags) : consumeInGroup(topic, flags.group, flags)));
}

async function consume(topic: string, flags: ConsumeFlags): Promise<void> {
  const { recordsMax, idleMsMax } = limitsOf(flags);
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
        printRecord(record, flags);
        printed++;
      }
      if (records.length > 0) lastRecordAtMs = Date.now();
    } while (printed < recordsMax && Date.now() - lastRecordAtMs < idleMsMax);
  } finally {
    consumer.close();
  }
}

/**
 * `trib consume --group G TOPIC`: joins G, prints its records from the group's committed offsets,
 * commits what it printed every second and before a rebalance takes partitions away, and on
 * SIGINT/SIGTERM, --max or --wait-ms commits, leaves the group and exits 0. A record is committed
 * only after it was printed, so a crash repeats at most the records printed since the last
 * commit (at least once). Rebalances are reported on stderr.
 */
async function consumeInGroup(topic: string, groupId: string, flags: ConsumeFlags): Promise<void> {
  if (flags.partition !== undefined) throw new Error('--partition and --group exclude each other: the group assigns the partitions');
  const { recordsMax, idleMsMax } = limitsOf(flags);
  const sessionTimeoutMs = integerFlag('--session-timeout-ms', flags.sessionTimeoutMs ?? '30000', 1_000, 1_800_000);
  // Printing a batch takes no time, so a short rebalance timeout (the group's wait for members to
  // rejoin) is enough, and five heartbeats per session ride out a lost one or two.
  const consumer = new Consumer({
    ...controllerClientOptionsFrom(flags), groupId, sessionTimeoutMs, heartbeatIntervalMs: Math.floor(sessionTimeoutMs / 5), rebalanceTimeoutMs: Math.max(sessionTimeoutMs, 10_000),
    autoCommitIntervalMs: groupAutoCommitIntervalMs, fromBeginning: flags.fromBeginning === true, fetchMaxWaitMs: Math.min(fetchWaitMsMax, idleMsMax),
  });
  let requestStop = () => {};
  const stopRequested = new Promise<void>((resolve) => (requestStop = resolve));
  const onSignal = () => requestStop();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let printed = 0;
  let lastRecordAtMs = Date.now();
  const idleCheck = setInterval(() => {
    if (Date.now() - lastRecordAtMs >= idleMsMax) requestStop();
  }, Math.min(fetchWaitMsMax, Math.max(1, idleMsMax)));
  try {
    consumer.subscribe({ topics: [topic] });
    const started = consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
        // Past --max nothing more is printed or resolved, so nothing more is committed.
        for (const record of batch.messages.slice(0, recordsMax - printed)) {
          printRecord(record, flags);
          printed++;
          resolveOffset(record.offset);
        }
        lastRecordAtMs = Date.now();
        if (printed >= recordsMax) requestStop();
        await commitOffsetsIfNecessary();
      },
      onPartitionsAssigned: (event) => {
        // --wait-ms counts from when there is something to read, not from the start of a slow join.
        lastRecordAtMs = Date.now();
        console.error(`trib: group ${groupId} generation ${event.generation}: assigned ${partitionList(event)}`);
      },
      onPartitionsRevoked: (event) => console.error(`trib: group ${groupId} generation ${event.generation}: ${event.lost ? 'lost' : 'revoked'} ${partitionList(event)}`),
    });
    await Promise.race([started.then(() => consumer.done()), stopRequested]);
  } finally {
    clearInterval(idleCheck);
    await consumer.disconnect();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function printRecord(record: ConsumerRecord, flags: ConsumeFlags): void {
  console.log(flags.json ? JSON.stringify(consumedRecordJson(record)) : consumedRecordLine(record));
}

function partitionList(event: PartitionsEvent): string {
  return event.partitions.length === 0 ? 'no partitions' : event.partitions.map((entry) => `${entry.topic}-${entry.partition}`).join(', ');
}

function limitsOf(flags: ConsumeFlags): { recordsMax: number; idleMsMax: number } {
  return {
    recordsMax: flags.max === undefined ? Number.POSITIVE_INFINITY : integerFlag('--max', flags.max, 1),
    idleMsMax: flags.waitMs === undefined ? Number.POSITIVE_INFINITY : integerFlag('--wait-ms', flags.waitMs, 0),
  };
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
