import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    core: 'src/core.ts',
    protocol: 'src/plugin/protocol.ts',
    internal: 'src/internal.ts',
    'plugin/child': 'src/plugin/child.ts',
  },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: { entry: { index: 'src/index.ts', core: 'src/core.ts', protocol: 'src/plugin/protocol.ts', internal: 'src/internal.ts' } },
  sourcemap: true,
  clean: true,
  splitting: true,
});
