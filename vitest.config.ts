import { defineConfig } from 'vitest/config';

// One project per package, the Danube contract suite once more on the http2 transport, and the cross-package
// end-to-end suite in test/.
export default defineConfig({
  test: {
    projects: ['sdk', 'sdk/vitest.contract-http2.config.ts', 'testing', 'host', 'plugins/*', 'test'],
  },
});
