#!/usr/bin/env node
// `danube-mqtt-plugin-schema <schema.src.json> <schema.json>`: writes an MQTT plugin's published, self-contained
// config schema (the shared connection keys inlined). Run by each MQTT plugin's `npm run build`, after this
// package's own build. A plain file, not built, so that npm links it as a bin before anything is built.
import { writeFileSync } from 'node:fs';
import { renderPluginSchema } from '../dist/index.js';

const [source, target] = process.argv.slice(2);
if (source === undefined || target === undefined) {
  process.stderr.write('usage: danube-mqtt-plugin-schema <schema.src.json> <schema.json>\n');
  process.exit(64);
}
writeFileSync(target, renderPluginSchema(source));
