/**
 * Bounds on every collection the metadata state machine holds and every list a command carries.
 * They are constants, not configuration: replicas must agree on them byte for byte, or the same
 * command could be accepted on one controller and rejected on another. A command that would exceed
 * one is rejected with an error naming the limit and the value.
 */
export const metadataLimits = {
  brokersMax: 1_024,
  controllersMax: 16,
  topicsMax: 10_000,
  partitionsPerTopicMax: 10_000,
  /** Across all topics: bounds snapshot size and the O(partitions) passes of fencing and checks. */
  partitionsMax: 200_000,
  replicationFactorMax: 16,
  groupsMax: 10_000,
  groupMembersMax: 1_000,
  committedOffsetsPerGroupMax: 100_000,
  /**
   * Sessions in the catalog. When a new session would exceed this (or `uploadSourcesMax`), the
   * least recently updated terminal sessions are evicted; only live sessions are never dropped.
   */
  uploadSessionsMax: 100_000,
  /** Sources over every session in the catalog: bounds the snapshot at ~100 bytes per source. */
  uploadSourcesMax: 400_000,
  uploadSourcesPerSessionMax: 64,
  /** Source names: the ingest contract's 1-64 characters of [a-z0-9_.-]. */
  uploadSourceNameLengthMax: 64,
  uploadContentTypeLengthMax: 255,
  /** Characters of a session's failure text. */
  uploadFailureLengthMax: 1_024,
  /**
   * Devices in the registry. A new device beyond it evicts the disconnected device seen least
   * recently; only connected devices are never dropped.
   */
  devicesMax: 100_000,
  /** The control plane's device ids: 1-128 characters of [A-Za-z0-9._:-]. */
  deviceIdLengthMax: 128,
  commandIdLengthMax: 128,
  /** Pending (unacknowledged, unexpired) commands per device and over all devices. */
  commandsPerDeviceMax: 64,
  deviceCommandsMax: 200_000,
  /** Acknowledgements remembered per device, for idempotent repeats of SendCommand. */
  acksPerDeviceMax: 32,
  /** Characters of an acknowledgement's message, and of a command's issuer. */
  commandAckMessageLengthMax: 1_024,
  commandIssuerLengthMax: 255,
  /** A SetConfig command: entries, and characters of each key and value. */
  commandConfigEntriesMax: 256,
  commandConfigKeyLengthMax: 128,
  commandConfigValueLengthMax: 4_096,
  /** Source names a pause, resume or flush command may name. */
  commandSourcesMax: 64,
  /** Names of topics and groups: Kafka's bound, 1-249 characters of [a-zA-Z0-9._-]. */
  nameLengthMax: 249,
  /** Addresses, racks, ids chosen by clients (member, instance, client, device, session ids). */
  identifierLengthMax: 255,
  protocolsPerMemberMax: 16,
  protocolMetadataBytesMax: 65_536,
  assignmentUserDataBytesMax: 65_536,
  /** Partitions a SyncGroup leader may assign in one generation, over all members. */
  assignedPartitionsMax: 100_000,
  offsetsPerCommitMax: 10_000,
  offsetMetadataBytesMax: 4_096,
  electLeadersPartitionsMax: 10_000,
  digestLengthMax: 128,
  maxMessageBytesMax: 64 * 1024 * 1024,
  topicLabelsMax: 16,
  /** UTF-8 bytes of a label key and of a label value. */
  topicLabelKeyBytesMax: 64,
  topicLabelValueBytesMax: 512,
  groupSessionTimeoutMsMin: 1_000,
  groupSessionTimeoutMsMax: 1_800_000,
  groupRebalanceTimeoutMsMax: 3_600_000,
  brokerSessionTimeoutMsMin: 100,
  brokerSessionTimeoutMsMax: 600_000,
  /**
   * Producer ids one AllocateProducerIds hands a broker (Kafka's block size): one Raft entry per
   * thousand new idempotent producers, and the ids a broker's crash wastes at most.
   */
  producerIdBlockSize: 1_000,
} as const;
