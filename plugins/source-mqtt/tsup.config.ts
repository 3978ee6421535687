import { defineConfig } from 'tsup';

export default defineConfig({
  // migrate.ts starts with #!/usr/bin/env node, which esbuild keeps on dist/migrate.js only; tsup then marks
  // the file executable (the package's bin danube-source-mqtt-migrate).
  entry: { index: 'src/index.ts', migrate: 'src/migrate/cli.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
});
