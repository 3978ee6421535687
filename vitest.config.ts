import { defineConfig } from 'vitest/config';

// One project per package plus the cross-package end-to-end suite in test/.
export default defineConfig({
  test: {
    projects: ['sdk', 'host', 'plugins/*', 'test'],
  },
});
