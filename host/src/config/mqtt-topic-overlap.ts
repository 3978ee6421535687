/**
 * Whether an MQTT publisher's topic template can produce a topic that a subscription filter matches: the static
 * half of loop detection (docs/architecture.md §3.1, `endpoints`). Both sides become sequences of
 * elements over characters, and a breadth-first walk of their product looks for one topic both accept.
 *
 * - Filter (MQTT 5 §4.7, §4.8.2): `$share/<group>/` is stripped; `+` is any run of characters without `/` (an
 *   empty level too); a last level `#` is the parent itself or `/` and anything.
 * - Template: `{…}` placeholders stand for any non-empty text, `/` included (an attribute may hold a whole topic),
 *   and `{partition}` for digits; `{{` and `}}` are literal braces.
 * - A topic the sink publishes never starts with `$` (it refuses such names), so no filter on `$` topics matches.
 *
 * The host depends on no plugin package, so it reads both syntaxes here: filters as
 * plugins/mqtt-common/src/topic-filter.ts does, templates as plugins/sink-mqtt/src/topic-template.ts does.
 */

/** What one character may be: a given one, or one of a class. */
type CharClass = 'level' | 'any' | 'digits';
type Step = { char: string } | { of: CharClass };
/** One character (`step`), or a run of zero or more characters of a class. */
type Element = { step: Step } | { run: CharClass };

const SHARE = /^\$share\/[^/]+\//;

function chars(text: string): Element[] {
  return [...text].map((char) => ({ step: { char } }));
}

/** The alternatives of a filter (`$share/<group>/` stripped): one, or two for a trailing `#` (the parent level, and below it). */
function filterPatterns(filter: string): Element[][] {
  const levels = filter.split('/');
  const hash = levels[levels.length - 1] === '#';
  const body = hash ? levels.slice(0, -1) : levels;
  const elements: Element[] = [];
  body.forEach((level, i) => {
    if (i > 0) elements.push(...chars('/'));
    if (level === '+') elements.push({ run: 'level' });
    else elements.push(...chars(level));
  });
  if (!hash) return [elements];
  if (body.length === 0) return [[{ run: 'any' }]];
  return [elements, [...elements, ...chars('/'), { run: 'any' }]];
}

/** A template as one character of its class per placeholder, then more of them. */
function templatePattern(template: string): Element[] {
  const elements: Element[] = [];
  for (let i = 0; i < template.length; i++) {
    const c = template[i] as string;
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      elements.push(...chars(c));
      i++;
    } else if (c === '{' && template.indexOf('}', i) > i) {
      const end = template.indexOf('}', i);
      const of: CharClass = template.slice(i + 1, end) === 'partition' ? 'digits' : 'any';
      elements.push({ step: { of } }, { run: of });
      i = end;
    } else {
      elements.push(...chars(c));
    }
  }
  return elements;
}

function allows(of: CharClass, char: string): boolean {
  if (of === 'digits') return char >= '0' && char <= '9';
  return of === 'any' || char !== '/';
}

/** Whether some character fits both steps (two classes always share one: a digit). */
function compatible(a: Step, b: Step): boolean {
  if ('char' in a) return 'char' in b ? a.char === b.char : allows(b.of, a.char);
  return 'char' in b ? allows(a.of, b.char) : true;
}

/** Positions reachable from `i` without consuming a character: runs may stay empty. */
function closure(pattern: Element[], i: number): number[] {
  const out = [i];
  while (i < pattern.length && 'run' in (pattern[i] as Element)) out.push(++i);
  return out;
}

/** The character step at position `i` and where it leads: past a single character, or staying in a run. */
function move(pattern: Element[], i: number): { step: Step; next: number } | undefined {
  const element = pattern[i];
  if (!element) return undefined;
  return 'run' in element ? { step: { of: element.run }, next: i } : { step: element.step, next: i + 1 };
}

/** Whether some string is accepted by both patterns: a breadth-first walk of their product. */
function intersects(a: Element[], b: Element[]): boolean {
  const seen = new Set<string>();
  const queue: [number, number][] = [];
  const visit = (i: number, j: number) => {
    for (const x of closure(a, i)) {
      for (const y of closure(b, j)) {
        const key = `${x},${y}`;
        if (seen.has(key)) continue;
        seen.add(key);
        queue.push([x, y]);
      }
    }
  };
  visit(0, 0);
  for (let head = 0; head < queue.length; head++) {
    const [i, j] = queue[head] as [number, number];
    if (i === a.length && j === b.length) return true;
    const ma = move(a, i);
    const mb = move(b, j);
    if (ma && mb && compatible(ma.step, mb.step)) visit(ma.next, mb.next);
  }
  return false;
}

/**
 * Whether a message published to `template` (a sink's `to`) can reach a subscription on `filter` (a source's
 * `from`, `$share/<group>/` allowed). Conservative where a placeholder's value is unknown: it may hold anything.
 */
export function templateMayMatchFilter(template: string, filter: string): boolean {
  const stripped = filter.replace(SHARE, '');
  if (stripped.startsWith('$') || template.startsWith('$')) return false;
  const topic = templatePattern(template);
  return filterPatterns(stripped).some((pattern) => intersects(topic, pattern));
}
