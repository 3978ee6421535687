import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    core: 'src/core.ts',
    'testing/index': 'src/testing/index.ts',
    'testing/cli': 'src/testing/cli.ts',
    'testing/conformance': 'src/testing/conformance.ts',
    protocol: 'src/plugin/protocol.ts',
    'plugin/child': 'src/plugin/child.ts',
  },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: { entry: { index: 'src/index.ts', core: 'src/core.ts', 'testing/index': 'src/testing/index.ts', 'testing/conformance': 'src/testing/conformance.ts', protocol: 'src/plugin/protocol.ts' } },
  sourcemap: true,
  clean: true,
  splitting: true,
});
