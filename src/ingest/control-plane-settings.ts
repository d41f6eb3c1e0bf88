/**
 * The control plane's bounds on a broker (docs/CONTROL_PLANE.md). Every queue, wait and list has
 * one; requests beyond them are refused with an error naming the value and the bound. The
 * registry's own bounds (devices, commands per device, acks remembered) are the controller's
 * `metadataLimits`, since every replica must agree on them.
 */
export interface ControlPlaneSettings {
  /** ControlWelcome.status_interval_ms: how often devices report. */
  readonly statusIntervalMs: number;
  /** A device silent for this many status intervals is disconnected (the contract says three). */
  readonly silentIntervalsMax: number;
  /** How often the broker checks its streams for silence, fencing and newly queued commands. */
  readonly sweepIntervalMs: number;
  /** Control streams one broker holds at once. */
  readonly connectionsMax: number;
  /** SendCommand calls waiting for acknowledgements at once, counted per device. */
  readonly ackWaitersMax: number;
  /** Target devices of one SendCommand. */
  readonly sendTargetsMax: number;
  readonly ttlMsDefault: number;
  readonly ttlMsMax: number;
  readonly ackTimeoutMsDefault: number;
  readonly ackTimeoutMsMax: number;
  readonly pageSizeDefault: number;
  readonly pageSizeMax: number;
  /** Deadline of one broker-to-broker call (a forwarded SendCommand adds its ack wait). */
  readonly peerCallTimeoutMs: number;
  /** Active sources one status report may list, and characters of its version strings. */
  readonly activeSourcesMax: number;
  readonly versionLengthMax: number;
}

export const controlPlaneDefaults: ControlPlaneSettings = {
  statusIntervalMs: 10_000,
  silentIntervalsMax: 3,
  sweepIntervalMs: 500,
  connectionsMax: 100_000,
  ackWaitersMax: 10_000,
  sendTargetsMax: 1_000,
  ttlMsDefault: 60_000,
  ttlMsMax: 86_400_000,
  ackTimeoutMsDefault: 10_000,
  ackTimeoutMsMax: 300_000,
  pageSizeDefault: 100,
  pageSizeMax: 1_000,
  peerCallTimeoutMs: 5_000,
  activeSourcesMax: 256,
  versionLengthMax: 256,
};
