type Node = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  properties?: Record<string, Node>;
  items?: Node;
  writeOnly?: boolean;
};

/**
 * The README's config table of a plugin, rendered from its published (self-contained) schema: one row per leaf
 * key with type, default and meaning, in schema order; nested objects as `tls.ca`, arrays of objects as
 * `routes[].from`. A test keeps each plugin README's table equal to this.
 */
export function renderConfigTable(schema: Record<string, unknown>): string {
  const defs = (schema['$defs'] ?? {}) as Record<string, Node>;
  const resolve = (node: Node): Node => {
    if (!node.$ref) return node;
    const target = defs[node.$ref.replace(/^#\/\$defs\//, '')];
    if (!target) throw new Error(`unresolved $ref ${node.$ref}`);
    const { $ref: _ref, ...own } = node;
    return { ...resolve(target), ...own };
  };
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const typeOf = (node: Node): string => {
    if (node.enum) return node.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
    if (node.type === 'array' && node.items) return `array of ${typeOf(resolve(node.items))}s`;
    return Array.isArray(node.type) ? node.type.join(' \\| ') : (node.type ?? 'any');
  };
  // The default column shows a schema default, so its "Default: …" sentence goes; a derived default stays in the text.
  const meaningOf = (node: Node) => (node.default === undefined ? (node.description ?? '') : (node.description ?? '').replace(/\s*Default: [^\n]*$/, ''));
  const rows: string[] = [];
  const walk = (raw: Node, path: string) => {
    const node = resolve(raw);
    if (node.type === 'object' && node.properties) {
      for (const [key, child] of Object.entries(node.properties)) walk(child, path ? `${path}.${key}` : key);
      return;
    }
    if (node.type === 'array' && node.items && resolve(node.items).type === 'object') {
      rows.push(`| \`${path}\` | array of tables | — | ${cell(meaningOf(node))} |`);
      return walk(node.items, `${path}[]`);
    }
    const fallback = node.default === undefined ? '—' : `\`${JSON.stringify(node.default)}\``;
    const secret = node.writeOnly ? ' **Secret** (masked in logs and status).' : '';
    const meaning = meaningOf(node).replace(/\s*Secret\.\s*/, ' ').trim();
    rows.push(`| \`${path}\` | ${typeOf(node)} | ${fallback} | ${cell(meaning + secret)} |`);
  };
  walk(schema as Node, '');
  return ['| key | type | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
