import type { MetadataCommand } from '../../src/controller/index.js';

/** A metadata command in a trace line: its type and what tells one from another of its kind. */
export function describeMetadataCommand(command: MetadataCommand): string {
  switch (command.type) {
    case 'registerBroker':
      return `registerBroker ${command.brokerId} as ${command.incarnationId}`;
    case 'brokerHeartbeat':
      return `brokerHeartbeat ${command.brokerId} epoch ${command.brokerEpoch}${command.wantsShutdown ? ' (shutdown)' : ''}`;
    case 'alterPartition': {
      const isr = command.newIsr.map((member) => member.brokerId).join(',');
      return `alterPartition ${command.topic}/${command.partition} isr [${isr}] by ${command.brokerId} at epochs broker ${command.brokerEpoch} leader ${command.leaderEpoch} partition ${command.partitionEpoch}`;
    }
    case 'electLeaders':
      return `electLeaders ${command.election} ${command.partitions.map((target) => `${target.topic}/${target.partition}`).join(',') || 'all'}`;
    case 'createTopic':
      return `createTopic ${command.name} x${command.config.partitions} rf ${command.config.replicationFactor}${command.config.uncleanLeaderElection ? ' unclean' : ''}`;
    case 'deleteTopic':
    case 'updateTopicConfig':
      return `${command.type} ${command.name}`;
    default:
      return command.type;
  }
}
