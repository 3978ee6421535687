// Renders the README's host.toml reference from schemas/host.schema.json (its $refs inlined, as the host ships it),
// so the two cannot drift (test/readme-host-toml.test.ts compares them). Print the table: node scripts/host-toml-reference.js
import { fileURLToPath } from 'node:url';
import { inlineSchema } from './inline-schema.js';

const SCHEMA = fileURLToPath(new URL('../schemas/host.schema.json', import.meta.url));
const TABLES = { host: '[host]', 'host.restart': '[host.restart]', danube: '[danube]', 'danube.tls': '[danube.tls]', connectors: '[[connectors]]' };

function typeOf(node) {
  if (node.enum) return node.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  return node.type ?? 'any';
}

function describe(node) {
  // Descriptions end with "Default: …" in the schema; the table has its own default column.
  return (node.description ?? '').replace(/\s*Default: .*$/s, '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** One row per leaf key, grouped by TOML table; connector overrides point at the host-wide keys they mirror. */
export function renderHostTomlReference(schema = inlineSchema(SCHEMA)) {
  const rows = [];
  const walk = (node, path) => {
    const table = path.slice(0, -1).join('.');
    if (node.type === 'object' && node.properties && path.join('.') !== 'connectors.config') {
      for (const [key, child] of Object.entries(node.properties)) if (key !== '$schema') walk(child, [...path, key]);
      return;
    }
    if (node.type === 'array' && node.items) return walk(node.items, path);
    const heading = TABLES[table] ?? `[${table}]`;
    const name = path[path.length - 1];
    const fallback = node.default === undefined ? '—' : `\`${JSON.stringify(node.default)}\``;
    rows.push(`| \`${heading}\` | \`${name}\` | ${typeOf(node)} | ${fallback} | ${describe(node)} |`);
  };
  walk(schema, []);
  return ['| table | key | type | default | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(`${renderHostTomlReference()}\n`);
