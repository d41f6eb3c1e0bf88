/**
 * Stable, readable one-line descriptions of the core's data, in the spirit of etcd-io/raft's
 * `DescribeReady`/`DescribeMessage`: `1->2 MsgApp Term:1 Log:1/3 Commit:3 Entries:[1/4 EntryNormal "x"]`.
 * Terms come before indices (`term/index`), as in etcd.
 */
import { decodeConfChange } from '../../src/raft/entry-codec.js';
import type { ConfChange, Entry, HardState, Membership, Message, MessageType, Ready, SnapshotMetadata } from '../../src/raft/raft-types.js';

const messageNames: Record<MessageType, string> = {
  preVote: 'MsgPreVote',
  preVoteResponse: 'MsgPreVoteResp',
  vote: 'MsgVote',
  voteResponse: 'MsgVoteResp',
  append: 'MsgApp',
  appendResponse: 'MsgAppResp',
  heartbeat: 'MsgHeartbeat',
  heartbeatResponse: 'MsgHeartbeatResp',
  snapshot: 'MsgSnap',
  snapshotResponse: 'MsgSnapResp',
  timeoutNow: 'MsgTimeoutNow',
  readIndex: 'MsgReadIndex',
  readIndexResponse: 'MsgReadIndexResp',
};

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Bytes as a JSON string when they are printable UTF-8 text, else as hex (the core's ReadIndex round ids). */
export function describeBytes(bytes: Uint8Array): string {
  let text: string;
  try {
    text = textDecoder.decode(bytes);
  } catch {
    return `0x${Buffer.from(bytes).toString('hex')}`;
  }
  // Control characters would make a trace unreadable.
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(text) ? `0x${Buffer.from(bytes).toString('hex')}` : JSON.stringify(text);
}

export function describeIds(ids: readonly number[]): string {
  return `(${[...ids].sort((a, b) => a - b).join(',')})`;
}

export function describeMembership(membership: Membership): string {
  const learners = membership.learners.length > 0 ? ` Learners:${describeIds(membership.learners)}` : '';
  return `Voters:${describeIds(membership.voters)}${learners}`;
}

export function describeConfChange(change: ConfChange): string {
  return `${change.type} ${change.nodeId}`;
}

export function describeEntry(entry: Entry): string {
  if (entry.type === 'confChange') {
    return `${entry.term}/${entry.index} EntryConfChange ${describeConfChange(decodeConfChange(entry.data))}`;
  }
  return `${entry.term}/${entry.index} EntryNormal ${describeBytes(entry.data)}`;
}

export function describeHardState(hardState: HardState): string {
  return `HardState Term:${hardState.term} Vote:${hardState.vote} Commit:${hardState.commit}`;
}

export function describeSnapshotMetadata(metadata: SnapshotMetadata): string {
  return `Index:${metadata.index} Term:${metadata.term} ${describeMembership(metadata.membership)}`;
}

export function describeMessage(message: Message): string {
  return `${message.from}->${message.to} ${messageNames[message.type]} Term:${message.term}${describeMessageBody(message)}`;
}

function describeMessageBody(message: Message): string {
  switch (message.type) {
    case 'preVote':
    case 'vote':
      return ` Log:${message.lastLogTerm}/${message.lastLogIndex}${message.transfer ? ' Transfer' : ''}`;
    case 'preVoteResponse':
    case 'voteResponse':
      return message.reject ? ' Rejected' : '';
    case 'append': {
      const entries = message.entries.length > 0 ? ` Entries:[${message.entries.map(describeEntry).join(', ')}]` : '';
      return ` Log:${message.prevLogTerm}/${message.prevLogIndex} Commit:${message.commit}${entries}`;
    }
    case 'appendResponse': {
      const hint = ` Rejected (Hint: Term:${message.conflictTerm} Index:${message.conflictIndex})`;
      return ` Index:${message.index}${message.reject ? hint : ''}`;
    }
    case 'heartbeat':
      return ` Commit:${message.commit}${describeContext(message.context)}`;
    case 'heartbeatResponse':
      return describeContext(message.context);
    case 'snapshot':
      return (
        ` Snapshot:[${describeSnapshotMetadata(message.metadata)}]` +
        ` Offset:${message.offset} Bytes:${message.data.length}${message.done ? ' Done' : ''}`
      );
    case 'snapshotResponse':
      return (
        ` Snapshot:${message.snapshotIndex} NextOffset:${message.nextOffset}` +
        `${message.done ? ' Done' : ''}${message.reject ? ' Rejected' : ''}`
      );
    case 'timeoutNow':
      return '';
    case 'readIndex':
      return describeContext(message.context);
    case 'readIndexResponse':
      return ` Index:${message.index}${describeContext(message.context)}${message.reject ? ' Rejected' : ''}`;
  }
}

function describeContext(context: Uint8Array): string {
  return context.length > 0 ? ` Context:${describeBytes(context)}` : '';
}

/** The Ready as etcd prints it: one section per non-empty field. */
export function describeReady(ready: Ready): string[] {
  const lines = [`Ready MustSync=${ready.mustSync}:`];
  if (ready.softState !== undefined) lines.push(`Lead:${ready.softState.leader} State:${ready.softState.role}`);
  if (ready.hardState !== undefined) lines.push(describeHardState(ready.hardState));
  if (ready.snapshot !== undefined) {
    lines.push(`Snapshot ${describeSnapshotMetadata(ready.snapshot.metadata)} Bytes:${ready.snapshot.data.length}`);
  }
  const section = (title: string, items: readonly string[]) => {
    if (items.length > 0) lines.push(`${title}:`, ...items);
  };
  section('Entries', ready.entries.map(describeEntry));
  section('CommittedEntries', ready.committedEntries.map(describeEntry));
  section('Messages', ready.messages.map(describeMessage));
  section(
    'ReadStates',
    ready.readStates.map((readState) => `Index:${readState.index} Context:${describeBytes(readState.context)}`),
  );
  return lines;
}
