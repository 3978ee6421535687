import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'testing',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real gRPC servers and clients share 2 cores: keep files in separate forks, a few at a time.
    pool: 'forks',
    // Fails the run when dist/ is missing or older than src/ (children, CLIs and package imports run it).
    globalSetup: ['../test/require-build.ts'],
  },
});
