import { defineConfig } from 'tsup';

export default defineConfig({
  // cli.ts starts with #!/usr/bin/env node, which esbuild keeps on dist/cli.js only (a tsup `banner` would
  // put it on every chunk); tsup then marks the file executable.
  entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  splitting: true,
});
