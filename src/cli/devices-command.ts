import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import type { DeviceAction, DeviceCommandResult, DeviceInfo } from '../client/index.js';
import { TributaryError } from '../errors/index.js';
import { ControlPlaneClient, MetadataClient, type SendCommandOptions } from '../rpc/clients/index.js';
import { type ControllerFlags, controllerClientOptionsFrom, withControllerFlags } from './client-flags.js';
import { collect, integerFlag, printOutput } from './print-output.js';

interface ListFlags extends ControllerFlags {
  connected?: boolean;
  prefix: string;
  pageSize: string;
}

interface SendFlags extends ControllerFlags {
  pause?: boolean;
  resume?: boolean;
  flush?: boolean;
  set: string[];
  unset: string[];
  source: string[];
  durationMs?: string;
  ttlMs?: string;
  ackTimeoutMs?: string;
  queue?: boolean;
  wait?: boolean;
  commandId?: string;
}

/** Pages `trib devices list` follows at most: 1000 pages of 1000 devices, the registry's whole bound and more. */
const listPagesMax = 1_000;

/** `trib devices list|send`: the control plane through any live broker (docs/CONTROL_PLANE.md). */
export function devicesCommand(): Command {
  const devices = new Command('devices').description('list devices and send them commands');
  devices.addCommand(withControllerFlags(new Command('list').description('devices in the registry, in id order, with their last status'))
    .option('--connected', 'only devices with a live Control stream')
    .option('--prefix <prefix>', 'only device ids starting with this', '')
    .option('--page-size <n>', 'devices asked for per call (1-1000)', '1000')
    .action((flags: ListFlags) => withBroker(flags, (client, address) => listDevices(client, address, flags))));
  devices.addCommand(withControllerFlags(new Command('send').argument('<device...>').description('send one command to devices; one result line per device'))
    .option('--pause', 'stop uploading')
    .option('--resume', 'resume uploading')
    .option('--flush', 'upload everything queued now')
    .option('--set <key=value>', 'set a collector setting (repeatable)', collect, [])
    .option('--unset <key>', 'return a setting to its default (repeatable)', collect, [])
    .option('--source <name>', 'only this source, for --pause, --resume and --flush (repeatable)', collect, [])
    .option('--duration-ms <ms>', 'with --pause: resume by itself after this long')
    .option('--ttl-ms <ms>', 'how long the command stays valid and queued (default 60000)')
    .option('--queue', 'hold the command for disconnected devices until they reconnect or it expires')
    .option('--wait', 'wait for each connected device to acknowledge')
    .option('--ack-timeout-ms <ms>', 'with --wait: the longest wait (default 10000)')
    .option('--command-id <id>', 'idempotency key; a repeat with the same id is not delivered again (default: a new UUID)')
    .action((deviceIds: string[], flags: SendFlags) => withBroker(flags, (client, address) => sendCommand(client, address, deviceIds, flags))));
  return devices;
}

/**
 * Runs `work` against a live broker: the controllers name the brokers, and each active one is
 * tried in turn while the failure is one another broker could avoid (unavailable, starting,
 * shutting down).
 */
async function withBroker(flags: ControllerFlags, work: (client: ControlPlaneClient, address: string) => Promise<void>): Promise<void> {
  const options = controllerClientOptionsFrom(flags);
  const metadata = new MetadataClient(options);
  const client = new ControlPlaneClient(options);
  try {
    const { brokers } = await metadata.clusterMetadata();
    const live = brokers.filter((broker) => broker.state === 'active');
    if (live.length === 0) throw new Error(`the cluster has no active broker (${brokers.length} registered); start one and try again`);
    for (const [position, broker] of live.entries()) {
      try {
        await work(client, broker.address);
        return;
      } catch (error) {
        const failure = TributaryError.from(error);
        if (position === live.length - 1 || !['NOT_AVAILABLE', 'SHUTTING_DOWN', 'UNKNOWN'].includes(failure.code)) throw failure;
      }
    }
  } finally {
    metadata.close();
    client.close();
  }
}

async function listDevices(client: ControlPlaneClient, address: string, flags: ListFlags): Promise<void> {
  const pageSize = integerFlag('--page-size', flags.pageSize, 1, 1_000);
  const devices: DeviceInfo[] = [];
  let pageToken = '';
  for (let pages = 0; pages < listPagesMax; pages += 1) {
    const page = await client.listDevices(address, { pageSize, pageToken, connectedOnly: flags.connected ?? false, deviceIdPrefix: flags.prefix });
    devices.push(...page.devices);
    pageToken = page.nextPageToken;
    if (pageToken === '') break;
  }
  printOutput(flags.json, { devices }, () => (devices.length === 0 ? ['no devices'] : devices.map(deviceLine)));
}

function deviceLine(device: DeviceInfo): string {
  const where = device.connected ? `connected to broker ${device.brokerNodeId} since ${new Date(device.connectedSinceMs).toISOString()}` : 'disconnected';
  const status = device.lastStatus;
  const detail = status === undefined ? '' : `  queue ${status.queueDepthBytes} B${status.uploadsPaused ? '  paused' : ''}${status.appVersion === '' ? '' : `  app ${status.appVersion}`}`;
  return `${device.deviceId}  ${where}  last seen ${new Date(device.lastSeenMs).toISOString()}  epoch ${device.connectionEpoch}  pending ${device.pendingCommands}${detail}`;
}

async function sendCommand(client: ControlPlaneClient, address: string, deviceIds: string[], flags: SendFlags): Promise<void> {
  const ttlMs = flags.ttlMs === undefined ? 0 : integerFlag('--ttl-ms', flags.ttlMs, 1, 86_400_000);
  const ackTimeoutMs = flags.ackTimeoutMs === undefined ? 0 : integerFlag('--ack-timeout-ms', flags.ackTimeoutMs, 1, 300_000);
  const input: SendCommandOptions = {
    deviceIds, commandId: flags.commandId ?? randomUUID(), action: actionOf(flags), ttlMs, queueIfDisconnected: flags.queue ?? false,
    waitForAck: flags.wait ?? false, ackTimeoutMs,
  };
  // The broker bounds the ack wait; the call's deadline must outlast it.
  const deadlineMs = Math.max(controllerClientOptionsFrom(flags).deadlineMs, input.waitForAck ? (ackTimeoutMs || 10_000) + 5_000 : 0);
  const results = await client.sendCommand(address, input, { deadlineMs });
  printOutput(flags.json, { results: results.map(resultJson) }, () => results.map(resultLine));
  if (results.some((result) => result.error !== undefined)) process.exitCode = 1;
}

function actionOf(flags: SendFlags): DeviceAction {
  const chosen = [flags.pause, flags.resume, flags.flush, flags.set.length > 0 || flags.unset.length > 0].filter(Boolean).length;
  if (chosen !== 1) throw new Error('choose exactly one of --pause, --resume, --flush, or --set/--unset');
  if (flags.pause) return { kind: 'pause', sources: flags.source, durationMs: flags.durationMs === undefined ? 0 : integerFlag('--duration-ms', flags.durationMs, 0, 4_294_967_295) };
  if (flags.resume) return { kind: 'resume', sources: flags.source };
  if (flags.flush) return { kind: 'flush', sources: flags.source };
  const values: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const pair of flags.set) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new Error(`--set "${pair}" is not key=value`);
    values[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return { kind: 'setConfig', values, unsetKeys: flags.unset };
}

function resultJson(result: DeviceCommandResult): object {
  return { ...result, error: result.error === undefined ? undefined : { code: result.error.code, message: result.error.message } };
}

function resultLine(result: DeviceCommandResult): string {
  const ack = result.ack === undefined ? '' : `  ${result.ack.outcome}${result.ack.message === '' ? '' : `: ${result.ack.message}`}`;
  const via = result.brokerNodeId === 0 ? '' : `  via broker ${result.brokerNodeId}`;
  const error = result.error === undefined ? '' : `  ${result.error.code}: ${result.error.message}`;
  return `${result.deviceId}  ${result.delivery}${ack}${via}  command ${result.commandId}${error}`;
}
