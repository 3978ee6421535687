// Makes a JSON Schema self-contained: every `$ref` (to another file, `defs.schema.json#/$defs/…`, or local,
// `#/$defs/…`) is replaced by a copy of its target, the ref's sibling keywords (description, default …) laid over
// it. The host compiles a plugin's schema.json as one file with no external $ref (README.md, "Writing a plugin"),
// and ships its own schemas inlined the same way from the repository's schemas/ folder, the one source.
// Usage at build: node scripts/inline-schema.js <source.json> <output.json>
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The value at a JSON pointer (`/$defs/danube/tls`) in `doc`; throws naming the ref when it is absent. */
function atPointer(doc, pointer, ref) {
  let node = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) throw new Error(`$ref ${JSON.stringify(ref)}: nothing at ${pointer}`);
    node = node[key];
  }
  return node;
}

/** The schema at `file` with every $ref inlined. A $ref that leads back to itself cannot be inlined: it throws. */
export function inlineSchema(file) {
  const docs = new Map();
  const load = (path) => {
    if (!docs.has(path)) docs.set(path, JSON.parse(readFileSync(path, 'utf8')));
    return docs.get(path);
  };
  const walk = (node, path, trail) => {
    if (Array.isArray(node)) return node.map((item) => walk(item, path, trail));
    if (node === null || typeof node !== 'object') return node;
    if (typeof node.$ref === 'string') {
      const { $ref: ref, ...siblings } = node;
      const [target, pointer = ''] = ref.split('#');
      const targetPath = target === '' ? path : resolve(dirname(path), target);
      if (!pointer.startsWith('/') && pointer !== '') throw new Error(`$ref ${JSON.stringify(ref)} in ${path}: only JSON pointers (#/…) are supported`);
      const key = `${targetPath}#${pointer}`;
      if (trail.includes(key)) throw new Error(`$ref ${JSON.stringify(ref)} in ${path} is recursive: a recursive schema cannot be inlined`);
      const resolved = walk(atPointer(load(targetPath), pointer, ref), targetPath, [...trail, key]);
      return { ...resolved, ...walk(siblings, path, trail) };
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, path, trail)]));
  };
  const path = resolve(file);
  return walk(load(path), path, []);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [source, output] = process.argv.slice(2);
  if (!source || !output) {
    process.stderr.write('usage: node scripts/inline-schema.js <source.json> <output.json>\n');
    process.exit(2);
  }
  mkdirSync(dirname(resolve(output)), { recursive: true });
  writeFileSync(output, `${JSON.stringify(inlineSchema(source), null, 2)}\n`);
}
