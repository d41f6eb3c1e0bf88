import { metadataLimits } from './metadata-limits.js';
import {
  noLeader, uploadSessionKey, type BrokerRecord, type GroupRecord, type MetadataState, type PartitionRecord, type TopicRecord,
  type UploadSessionRecord,
} from './metadata-state.js';

/**
 * What must only grow, captured after one apply so the next can be compared with it:
 * `checkMetadataInvariants(after, metadataWatermarks(before))`.
 */
export interface MetadataWatermarks {
  version: number;
  brokerEpochs: Map<number, number>;
  /** Per topic id: leader and partition epochs by partition. */
  partitionEpochs: Map<string, Array<{ leaderEpoch: number; partitionEpoch: number }>>;
  groupGenerations: Map<string, number>;
  /** Per upload session key: its committed length, then each source's committed bytes. */
  uploadCommittedBytes: Map<string, number[]>;
  deviceConnectionEpochs: Map<string, number>;
  nextProducerId: number;
}

export function metadataWatermarks(state: MetadataState): MetadataWatermarks {
  const brokerEpochs = new Map([...state.brokers.values()].map((broker) => [broker.brokerId, broker.brokerEpoch] as const));
  const partitionEpochs = new Map([...state.topics.values()].map((topic) =>
    [topic.topicId, topic.partitions.map(({ leaderEpoch, partitionEpoch }) => ({ leaderEpoch, partitionEpoch }))] as const));
  const groupGenerations = new Map([...state.groups.values()].map((group) => [group.groupId, group.generation] as const));
  const uploadCommittedBytes = new Map([...state.uploadSessions].map(([key, session]): [string, number[]] =>
    [key, [session.committedLength, ...session.sources.map((source) => source.committedBytes)]]));
  const deviceConnectionEpochs = new Map([...state.devices.values()].map((device) => [device.deviceId, device.connectionEpoch] as const));
  return {
    version: state.version, brokerEpochs, partitionEpochs, groupGenerations, uploadCommittedBytes, deviceConnectionEpochs, nextProducerId: state.nextProducerId,
  };
}

/**
 * Every violated invariant of the metadata, as sentences; empty when the state is sound. Linear in
 * brokers + partitions + group members + upload sessions, so the simulator can run it after every
 * apply. With `previous` (watermarks of an earlier state of the same replica) it also reports
 * anything that went backwards: version, broker epochs, partition epochs, group generations.
 */
export function checkMetadataInvariants(state: MetadataState, previous?: MetadataWatermarks): string[] {
  const violations: string[] = [];
  checkCounts(state, violations);
  for (const [key, broker] of state.brokers) checkBroker(state, key, broker, violations);
  const topicIds = new Set<string>();
  for (const [key, topic] of state.topics) {
    if (key !== topic.name) violations.push(`topic "${topic.name}" is stored under "${key}"`);
    if (topicIds.has(topic.topicId)) violations.push(`topic id ${topic.topicId} is used twice`);
    topicIds.add(topic.topicId);
    checkTopic(state, topic, violations);
  }
  for (const [key, group] of state.groups) {
    if (key !== group.groupId) violations.push(`group "${group.groupId}" is stored under "${key}"`);
    checkGroup(group, violations);
  }
  let sources = 0;
  for (const [key, session] of state.uploadSessions) {
    checkUploadSession(key, session, violations);
    sources += session.sources.length;
  }
  if (sources !== state.uploadSourceCount) violations.push(`the catalog counts ${state.uploadSourceCount} upload sources but its sessions hold ${sources}`);
  if (sources > metadataLimits.uploadSourcesMax) violations.push(`${sources} upload sources exceed the limit of ${metadataLimits.uploadSourcesMax}`);
  checkDevices(state, violations);
  for (const [key, controller] of state.controllers) if (key !== controller.nodeId) violations.push(`controller ${controller.nodeId} is stored under ${key}`);
  if (previous !== undefined) checkWatermarks(state, previous, violations);
  return violations;
}

function checkDevices(state: MetadataState, violations: string[]): void {
  let commands = 0;
  for (const [key, device] of state.devices) {
    const where = `device "${device.deviceId}"`;
    if (key !== device.deviceId) violations.push(`${where} is stored under "${key}"`);
    if ((device.brokerId === 0) !== (device.connectedSinceMs === 0)) violations.push(`${where} is held by broker ${device.brokerId} but connected since ${device.connectedSinceMs}`);
    if (device.connectionEpoch > state.version) violations.push(`${where} connection epoch ${device.connectionEpoch} is above the metadata version ${state.version}`);
    if (device.commands.length > metadataLimits.commandsPerDeviceMax) violations.push(`${where} has ${device.commands.length} pending commands, over the limit`);
    if (device.acks.length > metadataLimits.acksPerDeviceMax) violations.push(`${where} remembers ${device.acks.length} acks, over the limit`);
    if (new Set(device.commands.map((command) => command.commandId)).size !== device.commands.length) violations.push(`${where} holds a command id twice`);
    commands += device.commands.length;
  }
  if (commands !== state.deviceCommandCount) violations.push(`the registry counts ${state.deviceCommandCount} pending commands but its devices hold ${commands}`);
  if (commands > metadataLimits.deviceCommandsMax) violations.push(`${commands} pending device commands exceed the limit of ${metadataLimits.deviceCommandsMax}`);
  if (state.devices.size > metadataLimits.devicesMax) violations.push(`${state.devices.size} devices exceed the limit of ${metadataLimits.devicesMax}`);
}

function checkUploadSession(key: string, session: UploadSessionRecord, violations: string[]): void {
  const where = `session ${session.deviceId}/${session.sessionId}`;
  if (key !== uploadSessionKey(session.deviceId, session.sessionId)) violations.push(`${where} is stored under another key`);
  if (session.state === 'complete' && session.digest === '') violations.push(`${where} is complete without a digest`);
  if (session.state === 'complete' && session.sources.some((source) => !source.final)) violations.push(`${where} is complete with a source not final`);
  if (session.sources.length > metadataLimits.uploadSourcesPerSessionMax) violations.push(`${where} has ${session.sources.length} sources, over the limit`);
  if (new Set(session.sources.map((source) => source.name)).size !== session.sources.length) violations.push(`${where} names a source twice`);
  if (session.updatedAtMs < session.createdAtMs) violations.push(`${where} was updated at ${session.updatedAtMs} ms, before its creation at ${session.createdAtMs} ms`);
}

function checkCounts(state: MetadataState, violations: string[]): void {
  let partitions = 0;
  for (const topic of state.topics.values()) partitions += topic.partitions.length;
  const counts: Array<[string, number, number]> = [
    ['brokers', state.brokers.size, metadataLimits.brokersMax],
    ['topics', state.topics.size, metadataLimits.topicsMax],
    ['partitions', partitions, metadataLimits.partitionsMax],
    ['groups', state.groups.size, metadataLimits.groupsMax],
    ['upload sessions', state.uploadSessions.size, metadataLimits.uploadSessionsMax],
    ['controllers', state.controllers.size, metadataLimits.controllersMax],
  ];
  for (const [what, value, limit] of counts) if (value > limit) violations.push(`${value} ${what} exceed the limit of ${limit}`);
  if (!Number.isSafeInteger(state.version) || state.version < 0) violations.push(`metadata version ${state.version} is not a non-negative integer`);
  if (!Number.isSafeInteger(state.nextProducerId) || state.nextProducerId < 1) violations.push(`next producer id ${state.nextProducerId} is not a positive integer`);
}

function checkBroker(state: MetadataState, key: number, broker: BrokerRecord, violations: string[]): void {
  if (key !== broker.brokerId) violations.push(`broker ${broker.brokerId} is stored under ${key}`);
  if (broker.brokerEpoch < 1 || broker.brokerEpoch > state.version) {
    violations.push(`broker ${broker.brokerId} epoch ${broker.brokerEpoch} is outside 1..${state.version} (the metadata version)`);
  }
}

function checkTopic(state: MetadataState, topic: TopicRecord, violations: string[]): void {
  const { config } = topic;
  if (topic.partitions.length !== config.partitions) violations.push(`topic "${topic.name}" has ${topic.partitions.length} partitions but its config says ${config.partitions}`);
  if (config.minInSyncReplicas < 1 || config.minInSyncReplicas > config.replicationFactor) {
    violations.push(`topic "${topic.name}" minInSyncReplicas ${config.minInSyncReplicas} is outside 1..${config.replicationFactor}`);
  }
  topic.partitions.forEach((partition, position) => {
    // Names are built only for a violation: this loop runs over every partition after every apply.
    if (partition.partition !== position) violations.push(`${topic.name}/${position} is numbered ${partition.partition}`);
    if (partition.replicas.length !== config.replicationFactor) {
      violations.push(`${topic.name}/${position} has ${partition.replicas.length} replicas; the replication factor is ${config.replicationFactor}`);
    }
    checkPartition(state, topic.name, partition, violations);
  });
}

/** Quadratic, but lists are at most replicationFactorMax long and no Set is allocated per partition. */
function hasDuplicates(ids: readonly number[]): boolean {
  for (let position = 1; position < ids.length; position += 1) {
    if (ids.indexOf(ids[position] as number) < position) return true;
  }
  return false;
}

function isFenced(state: MetadataState, brokerId: number): boolean {
  return state.brokers.get(brokerId)?.fenced !== false;
}

function checkPartition(state: MetadataState, topicName: string, partition: PartitionRecord, violations: string[]): void {
  const { replicas, isr, leader } = partition;
  const where = () => `${topicName}/${partition.partition}`;
  if (hasDuplicates(replicas)) violations.push(`${where()} has two replicas on one broker: [${replicas.join(', ')}]`);
  for (const id of replicas) if (!state.brokers.has(id)) violations.push(`${where()} replica ${id} is not a registered broker`);
  if (isr.length === 0) violations.push(`${where()} has an empty ISR`);
  if (hasDuplicates(isr) || !isr.every((id) => replicas.includes(id))) {
    violations.push(`${where()} ISR [${isr.join(', ')}] is not a set of replicas [${replicas.join(', ')}]`);
  }
  if (partition.leaderEpoch < 1 || partition.partitionEpoch < 1) {
    violations.push(`${where()} epochs must start at 1 (leader epoch ${partition.leaderEpoch}, partition epoch ${partition.partitionEpoch})`);
  }
  if (leader !== noLeader) {
    if (!isr.includes(leader)) violations.push(`${where()} leader ${leader} is outside its ISR [${isr.join(', ')}]`);
    for (const id of isr) if (isFenced(state, id)) violations.push(`${where()} has fenced or unregistered broker ${id} in the ISR of a led partition`);
    return;
  }
  // Offline: the ISR is exactly the last leader, kept as the clean choice, and it is fenced.
  if (isr.length !== 1 || isr.some((id) => !isFenced(state, id))) {
    violations.push(`${where()} has no leader but its ISR [${isr.join(', ')}] is not one fenced broker`);
  }
}

function checkGroup(group: GroupRecord, violations: string[]): void {
  const where = `group "${group.groupId}"`;
  const size = group.members.size;
  if ((group.state === 'empty') !== (size === 0)) violations.push(`${where} is ${group.state} with ${size} members`);
  if (size > metadataLimits.groupMembersMax) violations.push(`${where} has ${size} members, above the limit of ${metadataLimits.groupMembersMax}`);
  if (group.offsets.size > metadataLimits.committedOffsetsPerGroupMax) {
    violations.push(`${where} has ${group.offsets.size} committed offsets, above the limit of ${metadataLimits.committedOffsetsPerGroupMax}`);
  }
  for (const [key, member] of group.members) if (key !== member.memberId) violations.push(`${where} member "${member.memberId}" is stored under "${key}"`);
  if (group.state === 'completingRebalance' || group.state === 'stable') {
    if (!group.members.has(group.leaderMemberId)) violations.push(`${where} is ${group.state} but its leader "${group.leaderMemberId}" is not a member`);
    for (const member of group.members.values()) {
      if (!member.protocols.some((protocol) => protocol.name === group.protocolName)) {
        violations.push(`${where} member "${member.memberId}" does not support the chosen protocol "${group.protocolName}"`);
      }
    }
    if (group.generation < 1) violations.push(`${where} is ${group.state} at generation ${group.generation}`);
  }
  if (group.state === 'preparingRebalance' && [...group.members.values()].every((member) => member.joined)) {
    violations.push(`${where} is preparing a rebalance although every member has joined; it should have completed`);
  }
}

function checkWatermarks(state: MetadataState, previous: MetadataWatermarks, violations: string[]): void {
  if (state.version < previous.version) violations.push(`metadata version went back from ${previous.version} to ${state.version}`);
  // A producer id handed out twice would let two producers' batches pass as each other's retries.
  if (state.nextProducerId < previous.nextProducerId) violations.push(`next producer id went back from ${previous.nextProducerId} to ${state.nextProducerId}`);
  for (const broker of state.brokers.values()) {
    const before = previous.brokerEpochs.get(broker.brokerId) ?? 0;
    if (broker.brokerEpoch < before) violations.push(`broker ${broker.brokerId} epoch went back from ${before} to ${broker.brokerEpoch}`);
  }
  for (const topic of state.topics.values()) {
    const before = previous.partitionEpochs.get(topic.topicId) ?? [];
    topic.partitions.forEach((partition, position) => {
      const epochs = before[position];
      if (epochs === undefined) return;
      if (partition.leaderEpoch < epochs.leaderEpoch || partition.partitionEpoch < epochs.partitionEpoch) {
        violations.push(`${topic.name}/${position} epochs went back from ${epochs.leaderEpoch}/${epochs.partitionEpoch} to ${partition.leaderEpoch}/${partition.partitionEpoch}`);
      }
    });
  }
  for (const group of state.groups.values()) {
    const before = previous.groupGenerations.get(group.groupId) ?? 0;
    if (group.generation < before) violations.push(`group "${group.groupId}" generation went back from ${before} to ${group.generation}`);
  }
  for (const device of state.devices.values()) {
    const before = previous.deviceConnectionEpochs.get(device.deviceId) ?? 0;
    if (device.connectionEpoch < before) violations.push(`device "${device.deviceId}" connection epoch went back from ${before} to ${device.connectionEpoch}`);
  }
  for (const [key, session] of state.uploadSessions) {
    const before = previous.uploadCommittedBytes.get(key) ?? [];
    const now = [session.committedLength, ...session.sources.map((source) => source.committedBytes)];
    if (before.some((bytes, position) => (now[position] ?? -1) < bytes)) {
      violations.push(`session ${session.deviceId}/${session.sessionId} committed bytes went back from [${before.join(', ')}] to [${now.join(', ')}]`);
    }
  }
}
