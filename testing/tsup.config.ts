import { defineConfig } from 'tsup';

export default defineConfig({
  // cli.ts starts with #!/usr/bin/env node, which esbuild keeps on dist/cli.js only; tsup marks it executable.
  entry: { index: 'src/index.ts', conformance: 'src/conformance.ts', cli: 'src/cli.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: { entry: { index: 'src/index.ts', conformance: 'src/conformance.ts' } },
  sourcemap: true,
  clean: true,
  splitting: true,
});
