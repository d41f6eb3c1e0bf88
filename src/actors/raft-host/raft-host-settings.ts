/**
 * Timing and bounds of a Raft host. Election timeouts are counted in ticks; the tick interval
 * turns them into wall time (the defaults: elections after 500–1000 ms of silence, heartbeats every
 * 50 ms, like etcd's 100 ms / 1000 ms but halved, since our peers share a loopback or a LAN).
 */
export interface RaftHostSettings {
  readonly tickIntervalMs: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatTimeoutTicks: number;
  /** Applied entries since the last snapshot that trigger a new one. */
  readonly snapshotThresholdEntries: number;
  /**
   * Bytes of entries applied since the last snapshot that trigger a new one, whichever threshold
   * comes first: a few large commands must not grow the log (and a restart's replay) unbounded.
   */
  readonly snapshotThresholdBytes: number;
  /** Entries kept behind a snapshot, so a slightly lagging follower catches up from the log. */
  readonly snapshotKeepEntries: number;
  readonly proposalTimeoutMs: number;
  readonly pendingProposalsMax: number;
  readonly readTimeoutMs: number;
  readonly pendingReadsMax: number;
}

export const raftHostDefaults: RaftHostSettings = {
  tickIntervalMs: 50,
  electionTimeoutTicks: 10,
  heartbeatTimeoutTicks: 1,
  snapshotThresholdEntries: 10_000,
  snapshotThresholdBytes: 64 * 1024 * 1024,
  snapshotKeepEntries: 1_000,
  proposalTimeoutMs: 10_000,
  pendingProposalsMax: 4_096,
  readTimeoutMs: 5_000,
  pendingReadsMax: 4_096,
};
