import { describe, expect, it } from 'vitest';
import { retryDecision } from '../../../src/client/retry-policy.js';
import { TributaryError } from '../../../src/errors/index.js';

const policy = { retriesMax: 3, backoffMsMin: 100, backoffMsMax: 1_000 };
const context = { failures: 1, nowMs: 0, deadlineMs: 60_000, triedAddress: '127.0.0.1:1' };
const upperEnd = () => 1;

describe('retrying a call to a partition leader', () => {
  it('follows a NOT_LEADER hint naming another broker at once', () => {
    const error = new TributaryError('NOT_LEADER', 'led elsewhere', { leaderHint: { nodeId: 2, address: '127.0.0.1:2', epoch: 4 } });
    expect(retryDecision(error, context, policy, upperEnd)).toEqual({ retry: true, delayMs: 0, route: 'hint' });
  });

  it('backs off and asks the controllers again when the hint is empty or names the broker just tried', () => {
    const empty = new TributaryError('NOT_LEADER', 'no leader', { leaderHint: { nodeId: 0, address: '', epoch: 4 } });
    const same = new TributaryError('NOT_LEADER', 'not yet', { leaderHint: { nodeId: 1, address: '127.0.0.1:1', epoch: 5 } });
    expect(retryDecision(empty, context, policy, upperEnd)).toEqual({ retry: true, delayMs: 100, route: 'refresh' });
    expect(retryDecision(same, { ...context, failures: 2 }, policy, upperEnd)).toEqual({ retry: true, delayMs: 200, route: 'refresh' });
  });

  it('refreshes routes after STALE_EPOCH and a broker that does not know the topic yet, though neither is retriable by default', () => {
    for (const code of ['STALE_EPOCH', 'TOPIC_NOT_FOUND', 'PARTITION_NOT_FOUND', 'NOT_AVAILABLE'] as const) {
      expect(retryDecision(new TributaryError(code, 'x'), context, policy, upperEnd)).toMatchObject({ retry: true, route: 'refresh' });
    }
  });

  it('keeps the route for other retriable failures and waits the longer of its backoff and retry_after_ms', () => {
    expect(retryDecision(new TributaryError('NOT_ENOUGH_REPLICAS', 'isr too small'), { ...context, failures: 3 }, policy, () => 0)).toEqual({ retry: true, delayMs: 200, route: 'keep' });
    expect(retryDecision(new TributaryError('RESOURCE_EXHAUSTED', 'busy', { retryAfterMs: 750 }), context, policy, upperEnd)).toEqual({ retry: true, delayMs: 750, route: 'keep' });
  });

  it('stops at a non-retriable error, after retriesMax retries, and when the retry would start past the deadline', () => {
    expect(retryDecision(new TributaryError('CORRUPT_RECORD', 'bad crc'), context, policy, upperEnd)).toEqual({ retry: false, why: 'CORRUPT_RECORD is not retriable' });
    expect(retryDecision(new TributaryError('TIMEOUT', 'slow'), { ...context, failures: 4 }, policy, upperEnd)).toEqual({ retry: false, why: 'gave up after 4 attempts (retriesMax 3)' });
    expect(retryDecision(new TributaryError('TIMEOUT', 'slow'), { ...context, nowMs: 59_950 }, policy, upperEnd))
      .toEqual({ retry: false, why: 'the delivery timeout ends before a retry in 100 ms could start' });
  });
});
