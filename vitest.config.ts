import { defineConfig } from 'vitest/config';

// One project per package, the Danube contract suite once more on the http2 transport, and the cross-package
// end-to-end suite in test/.
export default defineConfig({
  test: {
    // Two test files at a time (vitest's default on 2 cores is one): most tests wait on child processes and
    // brokers, so this cuts the suite's time by ~40 % (README "Tests").
    maxWorkers: 2,
    projects: ['sdk', 'sdk/vitest.contract-http2.config.ts', 'testing', 'host', 'plugins/*', 'test'],
  },
});
