// Writes schema.json (the published, self-contained config schema) from schema.src.json and the shared MQTT
// connection schema of @danube-connect/mqtt. Run by `npm run build`; test/config.test.ts checks it is current.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { inlineSchema } from '@danube-connect/mqtt';

const require = createRequire(import.meta.url);

/** The published schema as JSON text. */
export function renderSchema() {
  const source = JSON.parse(readFileSync(fileURLToPath(new URL('../schema.src.json', import.meta.url)), 'utf8'));
  const connection = JSON.parse(readFileSync(require.resolve('@danube-connect/mqtt/connection.schema.json'), 'utf8'));
  return `${JSON.stringify(inlineSchema(source, connection), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) writeFileSync(fileURLToPath(new URL('../schema.json', import.meta.url)), renderSchema());
