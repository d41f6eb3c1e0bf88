import { describe, expect, it } from 'vitest';
import { producerEpochMax, type ProducerIdBlock, ProducerIds } from '../../../src/broker/index.js';
import { TributaryError } from '../../../src/errors/index.js';

/** A block source that records every request and answers from a queue of blocks or failures. */
function blocksOf(answers: Array<ProducerIdBlock | TributaryError>) {
  const requests: Array<[number, number]> = [];
  const source = {
    allocateProducerIds: (brokerId: number, brokerEpoch: number): Promise<ProducerIdBlock> => {
      requests.push([brokerId, brokerEpoch]);
      const answer = answers.shift();
      if (answer === undefined) return Promise.reject(new Error('no more blocks in this test'));
      return answer instanceof TributaryError ? Promise.reject(answer) : Promise.resolve(answer);
    },
  };
  return { source, requests };
}

describe('producer ids on a broker', () => {
  it('hands out fresh ids from its block, asking the controllers once for concurrent callers and again when it runs out', async () => {
    const { source, requests } = blocksOf([{ firstProducerId: 1_001, count: 2 }, { firstProducerId: 5_001, count: 2 }]);
    const ids = new ProducerIds({ brokerId: 3, brokerEpoch: () => 17, source });
    const identities = await Promise.all([ids.init(0, 0), ids.init(0, 0), ids.init(0, 0)]);
    expect(identities.map((identity) => identity.producerId).sort()).toEqual([1_001, 1_002, 5_001]);
    expect(identities.every((identity) => identity.producerEpoch === 0)).toBe(true);
    expect(requests).toEqual([[3, 17], [3, 17]]);
  });

  it('bumps an epoch without asking anyone, the same answer for the same input, and a fresh id past the last epoch', async () => {
    const { source, requests } = blocksOf([{ firstProducerId: 1, count: 1_000 }]);
    const ids = new ProducerIds({ brokerId: 1, brokerEpoch: () => 2, source });
    expect(await ids.init(77, 4)).toEqual({ producerId: 77, producerEpoch: 5 });
    expect(await ids.init(77, 4)).toEqual({ producerId: 77, producerEpoch: 5 });
    expect(requests).toEqual([]);
    expect(await ids.init(77, producerEpochMax)).toEqual({ producerId: 1, producerEpoch: 0 });
  });

  it('answers NOT_AVAILABLE (retriable) before registration and when the controllers refuse, naming why', async () => {
    const unregistered = new ProducerIds({ brokerId: 1, brokerEpoch: () => 0, source: blocksOf([]).source });
    await expect(unregistered.init(0, 0)).rejects.toMatchObject({ code: 'NOT_AVAILABLE', retriable: true, message: expect.stringContaining('not registered yet') as unknown });
    const fenced = new TributaryError('FENCED', 'broker 1 epoch 2 was replaced by epoch 3');
    const { source } = blocksOf([fenced, { firstProducerId: 1, count: 10 }]);
    const ids = new ProducerIds({ brokerId: 1, brokerEpoch: () => 2, source });
    await expect(ids.init(0, 0)).rejects.toMatchObject({ code: 'NOT_AVAILABLE', retriable: true, message: expect.stringContaining('was replaced by epoch 3') as unknown });
    expect(await ids.init(0, 0)).toEqual({ producerId: 1, producerEpoch: 0 });
  });
});
