import { describe, expect, it } from 'vitest';
import { templateMayMatchFilter } from '../../src/config/mqtt-topic-overlap.js';

// [sink `to` template, source `from` filter, whether a published topic can reach the subscription]
const CASES: [string, string, boolean][] = [
  // Plain topics and filters.
  ['out/a', 'out/a', true],
  ['out/a', 'out/b', false],
  ['out/a', 'out', false],
  ['out', 'out/a', false],
  ['out/a', 'out/+', true],
  ['out/a/b', 'out/+', false],
  ['out//b', 'out/+/b', true],
  ['out/a', '+/+', true],
  ['out/a', '+', false],
  // `#`: the parent level too (MQTT 5 §4.7.1.2), and everything below.
  ['out', 'out/#', true],
  ['out/a/b/c', 'out/#', true],
  ['outside/a', 'out/#', false],
  ['anything/at/all', '#', true],
  // Shared subscriptions match as their filter.
  ['out/a', '$share/g1/out/#', true],
  ['out/a', '$share/g1/in/#', false],
  // `$` topics: the sink never publishes one, so no filter on them is reached.
  ['$SYS/x', '#', false],
  ['out/x', '$SYS/#', false],
  // Placeholders: any non-empty text, levels included; {partition} is digits.
  ['out/{topic}', 'out/default/events', true],
  ['out/{attr:mqtt.topic}', 'out/a/b/c', true],
  ['out/{key}', 'out', false],
  ['out/{key}', 'out/#', true],
  ['out/{key}/x', 'out/+/x', true],
  ['{attr:mqtt.topic}', 'sensors/#', true],
  ['{attr:mqtt.topic}', '$SYS/#', false],
  ['p/{partition}', 'p/3', true],
  ['p/{partition}', 'p/x', false],
  ['p/{partition}', 'p/+', true],
  ['p/{partition}/x', 'p/+/+', true],
  ['p/{partition}', 'p/1/2', false],
  ['dev-{key}-out', 'dev-a/b-out', true],
  ['dev-{key}-out', 'dev-+', false],
  ['a{key}', 'a', false],
  // Literal braces.
  ['out/{{x}}', 'out/{x}', true],
  ['out/{{x}}', 'out/x', false],
];

describe('templateMayMatchFilter', () => {
  it.each(CASES)('"%s" against "%s": %s', (template, filter, expected) => {
    expect(templateMayMatchFilter(template, filter)).toBe(expected);
  });
});
