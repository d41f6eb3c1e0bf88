import type { DeviceRecord } from '../controller/index.js';
import type { DeviceCommandSender, DevicePeers } from './device-command-sender.js';
import type { DeviceConnection, DeviceConnections, DeviceRegistryView } from './device-connections.js';
import type { DeviceInfo, DevicePage, ListDevicesInput } from './device-control-types.js';

export interface DeviceListingOptions {
  readonly connections: DeviceConnections;
  readonly view: DeviceRegistryView;
  readonly sender: Pick<DeviceCommandSender, 'holderOf'>;
  readonly peers: DevicePeers;
  /** Deadline of each call to a holding broker for its devices' last status. */
  readonly peerCallTimeoutMs: number;
}

/**
 * ListDevices (docs/CONTROL_PLANE.md): a page of the registry from this broker's metadata view, in
 * device id order, merged with the last status of each connected device from the broker holding
 * its stream (this one, or one forwarded call per other holder, in parallel). A holder that does
 * not answer leaves its devices without a status, as the registry last saw them.
 */
export class DeviceListing {
  constructor(private readonly options: DeviceListingOptions) {}

  async list(input: ListDevicesInput): Promise<DevicePage> {
    const matching: DeviceRecord[] = [];
    for (const record of this.options.view.devices()) {
      if (!record.deviceId.startsWith(input.deviceIdPrefix) || record.deviceId <= input.pageToken) continue;
      if (input.connectedOnly && !this.isConnected(record)) continue;
      matching.push(record);
    }
    matching.sort((left, right) => (left.deviceId < right.deviceId ? -1 : 1));
    const page = matching.slice(0, input.pageSize);
    const remote = await this.remoteStatuses(page, input);
    const devices = page.map((record) => this.info(record, remote.get(record.deviceId)));
    const last = page.at(-1);
    return { devices, nextPageToken: matching.length > page.length && last !== undefined ? last.deviceId : '' };
  }

  /** A forwarded ListDevices: this broker's own streams only, in the same order and bounds. */
  listLocal(input: ListDevicesInput): DeviceInfo[] {
    return this.options.connections.localConnections()
      .filter((connection) => connection.deviceId.startsWith(input.deviceIdPrefix) && connection.deviceId > input.pageToken)
      .sort((left, right) => (left.deviceId < right.deviceId ? -1 : 1))
      .slice(0, input.pageSize)
      .map((connection) => this.localInfo(connection, this.options.view.device(connection.deviceId)));
  }

  private isConnected(record: DeviceRecord): boolean {
    return this.options.connections.local(record.deviceId) !== undefined || this.options.sender.holderOf(record) !== 0;
  }

  private async remoteStatuses(page: readonly DeviceRecord[], input: ListDevicesInput): Promise<Map<string, DeviceInfo>> {
    const holders = new Set<number>();
    for (const record of page) {
      const holder = this.options.sender.holderOf(record);
      if (holder !== 0 && holder !== this.options.connections.brokerId) holders.add(holder);
    }
    const pageInput = { ...input, connectedOnly: true };
    const answers = await Promise.all([...holders].map((holder) => this.options.peers.listLocal(holder, pageInput, this.options.peerCallTimeoutMs).catch(() => [])));
    return new Map(answers.flat().map((info) => [info.deviceId, info]));
  }

  private info(record: DeviceRecord, remote: DeviceInfo | undefined): DeviceInfo {
    const local = this.options.connections.local(record.deviceId);
    if (local !== undefined) return this.localInfo(local, record);
    if (remote !== undefined && remote.connectionEpoch >= record.connectionEpoch) return { ...remote, pendingCommands: pendingCount(record, this.options.connections.nowMs()) };
    const holder = this.options.sender.holderOf(record);
    return {
      deviceId: record.deviceId, connected: holder !== 0, brokerNodeId: holder, lastSeenMs: record.lastSeenMs, connectedSinceMs: holder === 0 ? 0 : record.connectedSinceMs,
      lastStatus: undefined, connectionEpoch: record.connectionEpoch, pendingCommands: pendingCount(record, this.options.connections.nowMs()),
    };
  }

  private localInfo(connection: DeviceConnection, record: DeviceRecord | undefined): DeviceInfo {
    return {
      deviceId: connection.deviceId, connected: true, brokerNodeId: this.options.connections.brokerId, lastSeenMs: connection.lastSeenMs,
      connectedSinceMs: connection.connectedSinceMs, lastStatus: connection.lastStatus, connectionEpoch: connection.connectionEpoch,
      pendingCommands: record === undefined ? 0 : pendingCount(record, this.options.connections.nowMs()),
    };
  }
}

function pendingCount(record: DeviceRecord, nowMs: number): number {
  return record.commands.filter((command) => command.expiresAtMs > nowMs).length;
}
