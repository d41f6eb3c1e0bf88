import { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { listPartitionOffsets, type PartitionOffsets } from '../client/index.js';
import {
  AdminClient, type CompressionCodec, ConsumerClient, MetadataClient, type PartitionInfo, type TopicConfig, type TopicConfigChanges, type TopicInfo,
} from '../rpc/clients/index.js';
import { type ControllerFlags, controllerClientOptionsFrom, withControllerFlags } from './client-flags.js';
import { collect, integerFlag, printOutput } from './print-output.js';

const compressionCodecs: readonly CompressionCodec[] = ['none', 'lz4', 'zstd'];

interface ConfigFlags {
  minInsyncReplicas?: string;
  retentionMs?: string;
  retentionBytes?: string;
  compression?: string;
  maxMessageBytes?: string;
  uncleanLeaderElection?: string;
  label: string[];
}

interface CreateFlags extends ControllerFlags, ConfigFlags {
  partitions?: string;
  replicationFactor?: string;
  validateOnly?: boolean;
}

interface AlterFlags extends ControllerFlags, ConfigFlags {
  removeLabel: string[];
  topicId?: string;
}

/** `trib topic create|delete|list|describe|alter`: topics through the controller quorum. */
export function topicCommand(): Command {
  const topic = new Command('topic').description('create, delete, list, describe and alter topics');
  topic.addCommand(withConfigFlags(withControllerFlags(new Command('create').argument('<name>').description('create a topic; unset settings take the cluster defaults')))
    .option('--partitions <n>', 'number of partitions (default 1)')
    .option('--replication-factor <n>', 'copies of each partition (default: 3, or the live brokers when fewer)')
    .option('--validate-only', 'only check the request and show the planned placement')
    .action((name: string, flags: CreateFlags) => withClients(flags, (clients) => createTopic(clients.admin, name, flags))));
  topic.addCommand(withControllerFlags(new Command('delete').argument('<name>').description('delete a topic'))
    .option('--topic-id <id>', 'delete only if the topic still has this id')
    .action((name: string, flags: ControllerFlags & { topicId?: string }) => withClients(flags, (clients) => deleteTopic(clients.admin, name, flags))));
  topic.addCommand(withControllerFlags(new Command('list').description('list topics in name order'))
    .option('--prefix <prefix>', 'only topics whose names start with this', '')
    .action((flags: ControllerFlags & { prefix: string }) => withClients(flags, (clients) => listTopics(clients.metadata, flags))));
  topic.addCommand(withControllerFlags(new Command('describe').argument('<names...>').description('show topics with their config and partitions'))
    .action((names: string[], flags: ControllerFlags) => withClients(flags, (clients) => describeTopics(clients, names, flags))));
  topic.addCommand(withConfigFlags(withControllerFlags(new Command('alter').argument('<name>').description("change a topic's mutable settings and labels")))
    .option('--remove-label <key>', 'remove a label (repeatable)', collect, [])
    .option('--topic-id <id>', 'alter only if the topic still has this id')
    .action((name: string, flags: AlterFlags) => withClients(flags, (clients) => alterTopic(clients.admin, name, flags))));
  return topic;
}

function withConfigFlags(command: Command): Command {
  return command
    .option('--min-insync-replicas <n>', 'smallest in-sync set for ACKS_ALL writes (default: 2, or 1 below 3 replicas)')
    .option('--retention-ms <ms>', 'delete records older than this; 0 keeps them forever (default)')
    .option('--retention-bytes <bytes>', 'trim a partition past this size; 0 means no bound (default)')
    .option('--compression <codec>', `codec brokers prefer: ${compressionCodecs.join(', ')} (default none)`)
    .option('--max-message-bytes <bytes>', 'largest batch a producer may send (default 1048576)')
    .option('--unclean-leader-election <bool>', 'true lets an out-of-sync replica lead when no in-sync one is alive')
    .option('--label <key=value>', 'set a label (repeatable)', collect, []);
}

interface Clients {
  admin: AdminClient;
  metadata: MetadataClient;
  /** For the partition leaders' ListOffsets. */
  consumer: ConsumerClient;
}

async function withClients(flags: ControllerFlags, run: (clients: Clients) => Promise<void>): Promise<void> {
  const options = controllerClientOptionsFrom(flags);
  const clients = { admin: new AdminClient(options), metadata: new MetadataClient(options), consumer: new ConsumerClient(options) };
  try {
    await run(clients);
  } finally {
    clients.admin.close();
    clients.metadata.close();
    clients.consumer.close();
  }
}

async function createTopic(admin: AdminClient, name: string, flags: CreateFlags): Promise<void> {
  const config: Partial<TopicConfig> = { ...mutableConfigOf(flags), labels: labelsOf(flags.label) };
  if (flags.partitions !== undefined) config.partitions = integerFlag('--partitions', flags.partitions, 1);
  if (flags.replicationFactor !== undefined) config.replicationFactor = integerFlag('--replication-factor', flags.replicationFactor, 1);
  // A fresh key per invocation makes the create safe to retry after a timeout, and only this invocation's retries match it.
  const result = await admin.createTopic(name, { config, validateOnly: flags.validateOnly ?? false, idempotencyKey: randomUUID() });
  printOutput(flags.json, result, () => [
    flags.validateOnly ? `topic ${name} is valid; it would be placed as:` : `created topic ${name} (id ${result.topic.topicId}) at metadata version ${result.metadataVersion}`,
    ...describeTopicLines(result.topic),
  ]);
}

async function deleteTopic(admin: AdminClient, name: string, flags: ControllerFlags & { topicId?: string }): Promise<void> {
  const result = await admin.deleteTopic(name, flags.topicId === undefined ? {} : { topicId: flags.topicId });
  printOutput(flags.json, result, () => [`deleted topic ${name} (id ${result.topicId}) at metadata version ${result.metadataVersion}`]);
}

async function listTopics(metadata: MetadataClient, flags: ControllerFlags & { prefix: string }): Promise<void> {
  const topics = await metadata.allTopics({ namePrefix: flags.prefix });
  printOutput(flags.json, { topics }, () =>
    topics.length === 0
      ? ['no topics']
      : topics.map((topic) => `${topic.name}  partitions ${topic.config.partitions}  replication factor ${topic.config.replicationFactor}  id ${topic.topicId}`),
  );
}

async function describeTopics(clients: Clients, names: string[], flags: ControllerFlags): Promise<void> {
  const { topics, brokers } = await clients.metadata.topics(names);
  const missing = topics.filter((lookup) => lookup.error !== undefined);
  const described = await Promise.all(topics.map(async (lookup) => ({
    lookup,
    offsets: lookup.topic === undefined ? [] : await listPartitionOffsets(clients.consumer, lookup.topic, brokers),
  })));
  printOutput(flags.json, { topics: described.map(({ lookup, offsets }) => describedTopicJson(lookup.name, lookup.topic, lookup.error, offsets)), brokers }, () =>
    described.flatMap(({ lookup, offsets }) =>
      (lookup.topic === undefined ? [`topic ${lookup.name}: ${lookup.error?.code}: ${lookup.error?.message}`] : describeTopicLines(lookup.topic, offsets))),
  );
  if (missing.length > 0) process.exitCode = 1;
}

/** A topic with each partition's offsets as its leader reported them, or the error that kept it from reporting. */
function describedTopicJson(name: string, topic: TopicInfo | undefined, error: { code: string; message: string } | undefined, offsets: PartitionOffsets[]): object {
  if (topic === undefined) return { name, error: { code: error?.code, message: error?.message } };
  const offsetsOf = new Map(offsets.map((entry) => [entry.partition, entry]));
  return {
    ...topic,
    partitions: topic.partitions.map((partition) => {
      const entry = offsetsOf.get(partition.partition);
      if (entry?.offsets !== undefined) return { ...partition, ...entry.offsets };
      return { ...partition, offsetsError: { code: entry?.error?.code, message: entry?.error?.message } };
    }),
  };
}

async function alterTopic(admin: AdminClient, name: string, flags: AlterFlags): Promise<void> {
  const changes: TopicConfigChanges = { ...mutableConfigOf(flags), setLabels: labelsOf(flags.label), removeLabels: flags.removeLabel };
  const result = await admin.alterTopicConfig(name, changes, flags.topicId === undefined ? {} : { topicId: flags.topicId });
  printOutput(flags.json, result, () => [`altered topic ${name} at metadata version ${result.metadataVersion}`, `  ${configLine(result.config)}`, ...labelLines(result.config)]);
}

function mutableConfigOf(flags: ConfigFlags): Omit<TopicConfigChanges, 'setLabels' | 'removeLabels'> {
  const changes: Omit<TopicConfigChanges, 'setLabels' | 'removeLabels'> = {};
  if (flags.minInsyncReplicas !== undefined) changes.minInSyncReplicas = integerFlag('--min-insync-replicas', flags.minInsyncReplicas, 1);
  if (flags.retentionMs !== undefined) changes.retentionMs = integerFlag('--retention-ms', flags.retentionMs, 0);
  if (flags.retentionBytes !== undefined) changes.retentionBytes = integerFlag('--retention-bytes', flags.retentionBytes, 0);
  if (flags.maxMessageBytes !== undefined) changes.maxMessageBytes = integerFlag('--max-message-bytes', flags.maxMessageBytes, 1);
  if (flags.compression !== undefined) {
    const codec = compressionCodecs.find((candidate) => candidate === flags.compression);
    if (codec === undefined) throw new Error(`--compression must be one of ${compressionCodecs.join(', ')}, got "${flags.compression}"`);
    changes.compression = codec;
  }
  if (flags.uncleanLeaderElection !== undefined) {
    if (flags.uncleanLeaderElection !== 'true' && flags.uncleanLeaderElection !== 'false') {
      throw new Error(`--unclean-leader-election must be true or false, got "${flags.uncleanLeaderElection}"`);
    }
    changes.uncleanLeaderElection = flags.uncleanLeaderElection === 'true';
  }
  return changes;
}

function labelsOf(pairs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new Error(`--label must be key=value, got "${pair}"`);
    labels[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return labels;
}

/** With `offsets` (describe), each partition line ends with its high watermark and log end offset, or why its leader could not give them. */
function describeTopicLines(topic: TopicInfo, offsets?: PartitionOffsets[]): string[] {
  const offsetsOf = new Map((offsets ?? []).map((entry) => [entry.partition, entry]));
  return [
    `topic ${topic.name}${topic.topicId === '' ? '' : ` (id ${topic.topicId})`}`,
    `  ${configLine(topic.config)}`,
    ...labelLines(topic.config),
    ...topic.partitions.map((partition) => `  ${partitionLine(partition)}${offsets === undefined ? '' : offsetsText(offsetsOf.get(partition.partition))}`),
  ];
}

function partitionLine(partition: PartitionInfo): string {
  return `partition ${partition.partition}: leader ${partition.leader === 0 ? 'none (offline)' : partition.leader}, replicas [${partition.replicas.join(',')}], isr [${partition.isr.join(',')}], leader epoch ${partition.leaderEpoch}`;
}

function offsetsText(entry: PartitionOffsets | undefined): string {
  if (entry?.offsets !== undefined) return `, high watermark ${entry.offsets.highWatermark}, log end offset ${entry.offsets.logEndOffset}`;
  return `, offsets unknown (${entry?.error?.code ?? 'UNKNOWN'}: ${entry?.error?.message ?? 'no answer'})`;
}

function configLine(config: TopicConfig): string {
  const retention = config.retentionMs === 0 ? 'forever' : `${config.retentionMs} ms`;
  const size = config.retentionBytes === 0 ? 'no size bound' : `at most ${config.retentionBytes} bytes`;
  return `partitions ${config.partitions}, replication factor ${config.replicationFactor}, min in-sync replicas ${config.minInSyncReplicas}, ` +
    `retention ${retention} and ${size}, compression ${config.compression}, max message ${config.maxMessageBytes} bytes, ` +
    `unclean leader election ${config.uncleanLeaderElection ? 'on' : 'off'}`;
}

function labelLines(config: TopicConfig): string[] {
  const entries = Object.entries(config.labels).sort(([left], [right]) => (left < right ? -1 : 1));
  return entries.length === 0 ? [] : [`  labels: ${entries.map(([key, value]) => `${key}=${value}`).join(', ')}`];
}
