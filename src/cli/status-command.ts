import { Command } from 'commander';
import { TributaryError } from '../errors/index.js';
import { AdminClient, type BrokerInfo, type ClusterDescription } from '../rpc/clients/index.js';
import { type ControllerFlags, controllerClientOptionsFrom, withControllerFlags } from './client-flags.js';
import { exitCodes } from './cli-error.js';
import { printOutput } from './print-output.js';

/** One controller as `trib status` reports it. */
interface ControllerStatus {
  id: number;
  address: string;
  /** Its place in the quorum: voter or learner; unknown when no answer named it. */
  role: 'voter' | 'learner' | 'unknown';
  /** What it said of itself: leader, follower, or electing (it knows no leader); unreachable when it did not answer. */
  raftRole: 'leader' | 'follower' | 'electing' | 'unreachable';
  term: number;
  commitIndex: number;
  appliedIndex: number;
  /** The leader it follows; 0 when it knows none. */
  leader: number;
  error?: string;
}

interface ClusterStatus {
  clusterId: string;
  leaderId: number;
  controllers: ControllerStatus[];
  brokers: BrokerInfo[];
}

/**
 * `trib status`: asks every controller (the bootstrap list and the quorum it names) for its own
 * view with DescribeCluster allow_follower, so the report works during an election and shows
 * each controller's term and progress. Exits 1 when no controller answers.
 */
export function statusCommand(): Command {
  return withControllerFlags(new Command('status').description("show the controller quorum's members, roles and progress, and the brokers"))
    .action(async (flags: ControllerFlags) => {
      const options = controllerClientOptionsFrom(flags);
      const admin = new AdminClient(options);
      try {
        const status = await clusterStatus(admin, options.bootstrap);
        printOutput(flags.json, status, () => statusLines(status));
        if (status.controllers.every((controller) => controller.raftRole === 'unreachable')) process.exitCode = exitCodes.failed;
      } finally {
        admin.close();
      }
    });
}

async function clusterStatus(admin: AdminClient, bootstrap: readonly string[]): Promise<ClusterStatus> {
  const answers = new Map<string, ClusterDescription | TributaryError>();
  await askEach(admin, bootstrap, answers);
  const named = [...answers.values()].flatMap((answer) => (answer instanceof TributaryError ? [] : answer.controllers.map((controller) => controller.address)));
  await askEach(admin, named.filter((address) => address !== '' && !answers.has(address)), answers);
  const descriptions = [...answers.values()].filter((answer): answer is ClusterDescription => !(answer instanceof TributaryError));
  const newest = descriptions.reduce<ClusterDescription | undefined>((best, answer) => (best === undefined || answer.term > best.term ? answer : best), undefined);
  const fromLeader = descriptions.find((answer) => answer.responderId === answer.leaderId) ?? newest;
  return {
    clusterId: fromLeader?.clusterId ?? '',
    leaderId: fromLeader?.leaderId ?? 0,
    controllers: controllerStatuses(answers, fromLeader),
    brokers: fromLeader?.brokers ?? [],
  };
}

async function askEach(admin: AdminClient, addresses: readonly string[], answers: Map<string, ClusterDescription | TributaryError>): Promise<void> {
  const unique = [...new Set(addresses)];
  const results = await Promise.all(unique.map((address) => admin.describeController(address, { includeFenced: true }).catch((error: unknown) => TributaryError.from(error))));
  unique.forEach((address, position) => answers.set(address, results[position] as ClusterDescription | TributaryError));
}

function controllerStatuses(answers: Map<string, ClusterDescription | TributaryError>, reference: ClusterDescription | undefined): ControllerStatus[] {
  const membership = new Map((reference?.controllers ?? []).map((controller) => [controller.address, controller]));
  const statuses = [...answers.entries()].map(([address, answer]): ControllerStatus => {
    const member = membership.get(address);
    const role = member?.role ?? 'unknown';
    if (answer instanceof TributaryError) {
      return { id: member?.nodeId ?? 0, address, role, raftRole: 'unreachable', term: 0, commitIndex: 0, appliedIndex: 0, leader: 0, error: `${answer.code}: ${answer.message}` };
    }
    const raftRole = answer.leaderId === answer.responderId ? 'leader' : answer.leaderId === 0 ? 'electing' : 'follower';
    const { term, commitIndex, appliedIndex } = answer;
    return { id: answer.responderId, address, role: role === 'unknown' ? ownRole(answer) : role, raftRole, term, commitIndex, appliedIndex, leader: answer.leaderId };
  });
  return statuses.sort((left, right) => left.id - right.id || (left.address < right.address ? -1 : 1));
}

function ownRole(answer: ClusterDescription): ControllerStatus['role'] {
  return answer.controllers.find((controller) => controller.nodeId === answer.responderId)?.role ?? 'unknown';
}

function statusLines(status: ClusterStatus): string[] {
  const lines = [`cluster ${status.clusterId || 'unknown'}: controller leader ${status.leaderId === 0 ? 'unknown' : status.leaderId}`, 'controllers:'];
  for (const controller of status.controllers) {
    if (controller.raftRole === 'unreachable') {
      lines.push(`  ${controller.id || '?'} ${controller.address} ${controller.role}: unreachable (${controller.error ?? ''})`);
      continue;
    }
    lines.push(`  ${controller.id} ${controller.address} ${controller.role} ${controller.raftRole}: term ${controller.term}, commit ${controller.commitIndex}, ` +
      `applied ${controller.appliedIndex}, leader ${controller.leader || 'unknown'}`);
  }
  lines.push(status.brokers.length === 0 ? 'brokers: none registered' : 'brokers:');
  for (const broker of status.brokers) lines.push(`  ${broker.nodeId} ${broker.address} ${broker.state}${broker.rack ? ` rack ${broker.rack}` : ''}, epoch ${broker.incarnationEpoch}`);
  return lines;
}
