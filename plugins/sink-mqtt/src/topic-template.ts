import type { SinkRecord } from '@danube-connect/sdk';

type Part = { literal: string } | { placeholder: 'topic' | 'key' | 'partition' } | { attr: string };

/** A parsed template: literal text and placeholders, rendered per record. */
export interface Template {
  readonly source: string;
  readonly parts: readonly Part[];
}

/** The outcome of rendering: the text, or the placeholder that had no value (a missing or empty one). */
export type Rendered = { ok: true; value: string } | { ok: false; missing: string };

const NAMED = new Set(['topic', 'key', 'partition']);

/**
 * Parses `{topic}`, `{key}`, `{partition}`, `{attr:NAME}` (NAME anything but `}`, dots included) and the escapes
 * `{{` / `}}`. Throws a RangeError naming the problem for anything else, so config validation can list it.
 */
export function parseTemplate(source: string): Template {
  const parts: Part[] = [];
  let literal = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '{' && source[i + 1] === '{') {
      literal += '{';
      i++;
    } else if (c === '}' && source[i + 1] === '}') {
      literal += '}';
      i++;
    } else if (c === '}') {
      throw new RangeError(`a "}" at position ${i} closes no placeholder (write "}}" for a literal brace)`);
    } else if (c === '{') {
      const end = source.indexOf('}', i + 1);
      if (end < 0) throw new RangeError(`the placeholder at position ${i} is not closed with "}"`);
      const name = source.slice(i + 1, end);
      if (literal) parts.push({ literal });
      literal = '';
      if (name.startsWith('attr:')) {
        const attr = name.slice('attr:'.length);
        if (attr === '' || attr.includes('{')) throw new RangeError(`{${name}} needs an attribute name, e.g. {attr:mqtt.topic}`);
        parts.push({ attr });
      } else if (NAMED.has(name)) {
        parts.push({ placeholder: name as 'topic' | 'key' | 'partition' });
      } else {
        throw new RangeError(`unknown placeholder {${name}}; expected {topic}, {key}, {partition} or {attr:NAME}`);
      }
      i = end;
    } else {
      literal += c;
    }
  }
  if (literal) parts.push({ literal });
  return { source, parts };
}

/** The literal text of a template (what every rendering contains besides the placeholders' values). */
export function literalText(template: Template): string {
  return template.parts.map((p) => ('literal' in p ? p.literal : '')).join('');
}

/** Renders `template` for `record`. An absent or empty value is missing: an empty level is never made up. */
export function renderTemplate(template: Template, record: SinkRecord): Rendered {
  let out = '';
  for (const part of template.parts) {
    if ('literal' in part) {
      out += part.literal;
      continue;
    }
    let value: string | undefined;
    let name: string;
    if ('attr' in part) {
      name = `{attr:${part.attr}}`;
      value = Object.prototype.hasOwnProperty.call(record.attributes, part.attr) ? record.attributes[part.attr] : undefined;
    } else {
      name = `{${part.placeholder}}`;
      if (part.placeholder === 'topic') value = record.topic.replace(/^\//, '');
      else if (part.placeholder === 'key') value = record.routingKey;
      else value = record.partition === undefined ? undefined : String(record.partition);
    }
    if (value === undefined || value === '') return { ok: false, missing: name };
    out += value;
  }
  return { ok: true, value: out };
}

/**
 * Why `topic` cannot be an MQTT topic name (MQTT 5 §4.7), or undefined: empty, wildcards `+` / `#`, NUL, a leading
 * `$` (reserved for the broker, e.g. `$SYS`), or over 65535 bytes of UTF-8.
 */
export function topicNameProblem(topic: string): string | undefined {
  if (topic === '') return 'is empty';
  if (topic.includes('+') || topic.includes('#')) return 'contains a wildcard (+ or #), which a topic name may not';
  if (topic.includes('\u0000')) return 'contains NUL';
  if (topic.startsWith('$')) return 'starts with $ (reserved for the broker)';
  if (Buffer.byteLength(topic, 'utf8') > 65_535) return 'is longer than 65535 bytes';
  return undefined;
}
