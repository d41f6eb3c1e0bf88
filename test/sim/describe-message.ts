import type { Message } from '../../src/raft/raft-types.js';

/** One message as a short trace phrase: `2->1 appendResponse t3 index=7`. */
export function describeMessage(message: Message): string {
  const head = `${message.from}->${message.to} ${message.type} t${message.term}`;
  switch (message.type) {
    case 'preVote':
    case 'vote':
      return `${head} last=${message.lastLogTerm}/${message.lastLogIndex}${message.transfer ? ' transfer' : ''}`;
    case 'preVoteResponse':
    case 'voteResponse':
      return `${head}${message.reject ? ' REJECT' : ' granted'}`;
    case 'append': {
      const range = message.entries.length === 0 ? 'none' : `${message.entries[0]?.index}..${message.entries[message.entries.length - 1]?.index}`;
      return `${head} prev=${message.prevLogTerm}/${message.prevLogIndex} entries=${range} commit=${message.commit}`;
    }
    case 'appendResponse':
      return `${head} index=${message.index}${message.reject ? ` REJECT hint=${message.conflictTerm}/${message.conflictIndex}` : ''}`;
    case 'heartbeat':
      return `${head} commit=${message.commit}${message.context.length > 0 ? ' read' : ''}`;
    case 'snapshot':
      return `${head} snapshot=${message.metadata.term}/${message.metadata.index} offset=${message.offset} bytes=${message.data.length}${message.done ? ' done' : ''}`;
    case 'snapshotResponse':
      return `${head} snapshot=${message.snapshotIndex} next=${message.nextOffset}${message.reject ? ' REJECT' : ''}${message.done ? ' done' : ''}`;
    case 'readIndexResponse':
      return `${head} index=${message.index}${message.reject ? ' REJECT' : ''}`;
    default:
      return head;
  }
}
