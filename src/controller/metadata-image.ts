import {
  brokerRegisteredDelta, controllersChangedDelta, groupChangedDelta, partitionChangedDelta, topicCreatedDelta, type MetadataDelta,
} from './metadata-delta.js';
import { copyDevice, copyUploadSession, sortedValues, type MetadataState } from './metadata-state.js';

/**
 * The whole state as delta records at its version, for a watcher starting from nothing: applied to
 * an empty view in order, they give the same view as following every delta from the beginning.
 * Brokers carry their standing in their record, so no brokerStateChanged records are needed.
 */
export function metadataImage(state: MetadataState): MetadataDelta[] {
  const { version } = state;
  const image: MetadataDelta[] = [controllersChangedDelta(version, state.controllers)];
  for (const broker of sortedValues(state.brokers)) image.push(brokerRegisteredDelta(version, broker));
  for (const topic of sortedValues(state.topics)) {
    image.push(topicCreatedDelta(version, topic));
    for (const partition of topic.partitions) image.push(partitionChangedDelta(version, topic, partition));
  }
  for (const group of sortedValues(state.groups)) image.push(groupChangedDelta(version, group));
  for (const session of sortedValues(state.uploadSessions)) image.push({ kind: 'uploadSessionChanged', version, session: copyUploadSession(session) });
  for (const device of sortedValues(state.devices)) image.push({ kind: 'deviceChanged', version, device: copyDevice(device) });
  return image;
}
