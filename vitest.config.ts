import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real servers and processes; two cores leave little room for more.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
