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
  validateLabels(topic, config.labels);
}

/**
 * Label keys start with a letter or digit, then letters, digits and `._/-` (Kubernetes' rule,
 * less the optional prefix). Beyond readability, the first character keeps out `__proto__`,
 * which would corrupt the plain object labels are stored in.
 */
export const labelKeyPattern = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
const utf8 = new TextEncoder();

export function validateLabels(topic: string, labels: Record<string, string>): void {
  const keys = Object.keys(labels);
  if (keys.length > metadataLimits.topicLabelsMax) {
    rejectCommand('INVALID_REQUEST', `topic "${topic}": ${keys.length} labels exceed the limit of ${metadataLimits.topicLabelsMax}`);
  }
  for (const key of keys) validateLabel(topic, key, labels[key] as string);
}

export function validateLabelKey(topic: string, key: string): void {
  const keyBytes = utf8.encode(key).length;
  if (keyBytes > metadataLimits.topicLabelKeyBytesMax || !labelKeyPattern.test(key)) {
    rejectCommand('INVALID_REQUEST',
      `topic "${topic}": label key "${key}" is invalid: use 1-${metadataLimits.topicLabelKeyBytesMax} characters of [A-Za-z0-9._/-], starting with a letter or digit`);
  }
}

function validateLabel(topic: string, key: string, value: string): void {
  validateLabelKey(topic, key);
  const valueBytes = utf8.encode(value).length;
  if (valueBytes > metadataLimits.topicLabelValueBytesMax) {
    rejectCommand('INVALID_REQUEST', `topic "${topic}": label "${key}" has a ${valueBytes}-byte value; the limit is ${metadataLimits.topicLabelValueBytesMax} bytes`);
  }
}

function requireInteger(topic: string, key: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    rejectCommand('INVALID_REQUEST', `topic "${topic}": ${key} ${value} must be an integer from ${min} to ${max}`);
  }
}
