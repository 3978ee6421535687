import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'e2e',
    include: ['**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Fails the run when dist/ is missing or older than src/ (children, CLIs and package imports run it).
    globalSetup: ['./require-build.ts'],
  },
});
