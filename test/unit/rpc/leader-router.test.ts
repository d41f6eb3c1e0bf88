import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/errors/index.js';
import { LeaderRouter } from '../../../src/rpc/clients/leader-router.js';

const noSleep = (): Promise<void> => Promise.resolve();
const policy = { attemptsMax: 5, backoffMsMin: 1, backoffMsMax: 2 };

function notLeader(address: string): TributaryError {
  return new TributaryError('NOT_LEADER', 'not the leader', { leaderHint: { nodeId: 2, address, epoch: 3 } });
}

describe('LeaderRouter', () => {
  it('follows a NOT_LEADER hint to the leader and remembers it for the next request', async () => {
    const router = new LeaderRouter(['a:1', 'b:2'], policy, noSleep);
    const calls: string[] = [];
    const answer = (address: string): Promise<string> => {
      calls.push(address);
      return address === 'c:3' ? Promise.resolve('ok') : Promise.reject(notLeader('c:3'));
    };
    await expect(router.call(answer, { idempotent: false })).resolves.toBe('ok');
    expect(calls).toEqual(['a:1', 'c:3']);
    expect(router.target).toBe('c:3');
  });

  it('moves to the next address when a node is down or knows no leader', async () => {
    const router = new LeaderRouter(['a:1', 'b:2', 'c:3'], policy, noSleep);
    const calls: string[] = [];
    const answer = (address: string): Promise<string> => {
      calls.push(address);
      if (address === 'a:1') return Promise.reject(new TributaryError('NOT_AVAILABLE', 'connection refused'));
      if (address === 'b:2') return Promise.reject(new TributaryError('NOT_LEADER', 'no leader yet'));
      return Promise.resolve('ok');
    };
    await expect(router.call(answer, { idempotent: false })).resolves.toBe('ok');
    expect(calls).toEqual(['a:1', 'b:2', 'c:3']);
  });

  it('gives up after attemptsMax with an error naming the addresses and the last failure', async () => {
    const router = new LeaderRouter(['a:1', 'b:2'], policy, noSleep);
    let calls = 0;
    const failing = (): Promise<never> => {
      calls++;
      return Promise.reject(new TributaryError('NOT_AVAILABLE', 'connection refused'));
    };
    await expect(router.call(failing, { idempotent: true })).rejects.toThrow(/after 5 attempts over a:1, b:2: connection refused/);
    expect(calls).toBe(5);
  });

  it('does not retry a non-retriable error, nor a TIMEOUT of a write that may have been applied', async () => {
    const router = new LeaderRouter(['a:1', 'b:2'], policy, noSleep);
    await expect(router.call(() => Promise.reject(new TributaryError('TOPIC_ALREADY_EXISTS', 'exists')), { idempotent: true })).rejects.toMatchObject({
      code: 'TOPIC_ALREADY_EXISTS',
    });
    let calls = 0;
    const timingOut = (): Promise<never> => {
      calls++;
      return Promise.reject(new TributaryError('TIMEOUT', 'deadline exceeded'));
    };
    await expect(router.call(timingOut, { idempotent: false })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(calls).toBe(1);
  });

  it('refuses an empty bootstrap list', () => {
    expect(() => new LeaderRouter([])).toThrow(/at least one controller address/);
  });
});
