import { writeFileSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { configSchema } from './src/config-schema.js';

// schema.json is what the host validates each connector's config with (the manifest's configSchema). It is
// written here (tsup runs in the package folder), at every build, from src/config-schema.ts: one source for the schema and the Config type.
writeFileSync('schema.json', `${JSON.stringify(configSchema, null, 2)}\n`);

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: true,
  sourcemap: true,
  clean: true,
});
