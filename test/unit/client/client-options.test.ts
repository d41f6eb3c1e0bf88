import { describe, expect, it } from 'vitest';
import { assignedPartitionsMax, Consumer, Producer } from '../../../src/client/index.js';

// Clients connect lazily, so these never reach the (unused) address.
const bootstrap = ['127.0.0.1:1'];

describe('client options', () => {
  it('names a bad producer option, its value and the range', () => {
    expect(() => new Producer({ bootstrap, batchBytesMax: 0 })).toThrow('option batchBytesMax must be an integer from 1 to 16777216, got 0');
    expect(() => new Producer({ bootstrap, lingerMs: 1.5 })).toThrow('option lingerMs must be an integer from 0 to 60000, got 1.5');
    expect(() => new Producer({ bootstrap, acks: 'most' as never })).toThrow('option acks must be one of none, leader, all, got "most"');
    expect(() => new Producer({ bootstrap, backoffMsMin: 500, backoffMsMax: 100 })).toThrow('option backoffMsMax must be an integer from 500 to 600000, got 100');
    expect(() => new Producer({ bootstrap: [] })).toThrow('bootstrap must list at least one controller address "host:port"');
  });

  it('refuses records once the producer is closed', async () => {
    const producer = new Producer({ bootstrap });
    await producer.close();
    await expect(producer.sendRecord('t', { value: 'x' })).rejects.toThrow('the producer is closed; record for topic "t" not sent');
  });

  it('checks assignments: no repeats, offsets that can exist, a bounded count, only assigned partitions seek', () => {
    const consumer = new Consumer({ bootstrap });
    try {
      expect(() => consumer.assign([{ topic: 't', partition: 0, offset: 0 }, { topic: 't', partition: 0, offset: 'latest' }])).toThrow('partition t-0 is assigned twice');
      expect(() => consumer.assign([{ topic: 't', partition: 0, offset: -1 }])).toThrow("partition t-0: start offset -1 must be a non-negative integer, 'earliest' or 'latest'");
      expect(() => consumer.assign([{ topic: 't', partition: -2, offset: 0 }])).toThrow('topic "t": partition -2 must be a non-negative integer');
      const many = Array.from({ length: assignedPartitionsMax + 1 }, (_, partition) => ({ topic: 't', partition, offset: 0 }));
      expect(() => consumer.assign(many)).toThrow(`${assignedPartitionsMax + 1} partitions assigned; a consumer reads at most ${assignedPartitionsMax}`);
      consumer.assign([{ topic: 't', partition: 1, offset: 'earliest' }]);
      expect(consumer.position('t', 1)).toBeUndefined();
      consumer.seek('t', 1, 17);
      expect(consumer.position('t', 1)).toBe(17);
      expect(() => consumer.seek('t', 0, 3)).toThrow('partition t-0 is not assigned to this consumer');
    } finally {
      consumer.close();
    }
  });

  it('asks for an assignment before polling', async () => {
    const consumer = new Consumer({ bootstrap });
    try {
      await expect(consumer.poll()).rejects.toThrow('no partitions are assigned; call assign() first');
    } finally {
      consumer.close();
    }
    await expect(consumer.poll()).rejects.toThrow('the consumer is closed');
  });
});
