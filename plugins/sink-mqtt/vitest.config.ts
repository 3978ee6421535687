import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'sink-mqtt',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Fails the run when a package this project's tests start (sdk, testing, host) has no fresh build.
    globalSetup: ['../../test/require-build.ts'],
  },
});
