import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';

describe('client environment variables', () => {
  it('are not config keys: a node started with TRIB_BOOTSTRAP exported loads its config', () => {
    const config = loadConfig({ env: { TRIB_BOOTSTRAP: '127.0.0.1:7400', TRIB_NODE_ID: '2' } });
    expect(config.nodeId).toBe(2);
  });
});
