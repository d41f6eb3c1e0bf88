import { rejectCommand } from './apply-context.js';
import { metadataLimits } from './metadata-limits.js';
import { compressionCodecs, type TopicConfig } from './metadata-state.js';

const namePattern = /^[a-zA-Z0-9._-]+$/;

/** Topic and group names: Kafka's rule, so names move between the systems unchanged. */
export function validateName(name: string, what: 'topic' | 'group'): void {
  if (name.length === 0 || name.length > metadataLimits.nameLengthMax || !namePattern.test(name)) {
    rejectCommand('INVALID_REQUEST', `${what} name "${name}" is invalid: use 1-${metadataLimits.nameLengthMax} characters of [a-zA-Z0-9._-]`);
  }
  if (name === '.' || name === '..') rejectCommand('INVALID_REQUEST', `${what} name "${name}" is invalid: "." and ".." are reserved`);
}

/** Checks a complete topic config; `topic` names the topic in the error. */
export function validateTopicConfig(topic: string, config: TopicConfig): void {
  const { partitions, replicationFactor, minInSyncReplicas } = config;
  requireInteger(topic, 'partitions', partitions, 1, metadataLimits.partitionsPerTopicMax);
  requireInteger(topic, 'replicationFactor', replicationFactor, 1, metadataLimits.replicationFactorMax);
  if (!Number.isSafeInteger(minInSyncReplicas) || minInSyncReplicas < 1 || minInSyncReplicas > replicationFactor) {
    rejectCommand('INVALID_REQUEST',
      `topic "${topic}": minInSyncReplicas ${minInSyncReplicas} must be from 1 to the replication factor ${replicationFactor}`);
  }
  requireInteger(topic, 'retentionMs', config.retentionMs, 0, Number.MAX_SAFE_INTEGER);
  requireInteger(topic, 'retentionBytes', config.retentionBytes, 0, Number.MAX_SAFE_INTEGER);
  requireInteger(topic, 'maxMessageBytes', config.maxMessageBytes, 1, metadataLimits.maxMessageBytesMax);
  if (!compressionCodecs.includes(config.compression)) {
    rejectCommand('INVALID_REQUEST', `topic "${topic}": compression "${String(config.compression)}" is not one of ${compressionCodecs.join(', ')}`);
  }
}

function requireInteger(topic: string, key: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    rejectCommand('INVALID_REQUEST', `topic "${topic}": ${key} ${value} must be an integer from ${min} to ${max}`);
  }
}
