import { describe, expect, it } from 'vitest';
import { parseTopicFilter, topicFilterProblem, topicMatches } from '../src/topic-filter.js';

// [filter, topic, matches] per MQTT 5 §4.7; the reference got `a/#` ↔ `a` wrong.
const TABLE: Array<[string, string, boolean]> = [
  ['a/#', 'a', true],
  ['a/#', 'a/b', true],
  ['a/#', 'a/b/c', true],
  ['a/#', 'ab', false],
  ['a/#', 'b/a', false],
  ['#', 'a', true],
  ['#', 'a/b/c', true],
  ['#', '/a', true],
  ['+', 'a', true],
  ['+', 'a/b', false],
  ['+', '', true],
  ['+/+', '/a', true],
  ['a/+', 'a/b', true],
  ['a/+', 'a', false],
  ['a/+', 'a/b/c', false],
  ['a/+', 'a/', true],
  ['a/+/c', 'a/b/c', true],
  ['a/+/c', 'a/b/d', false],
  ['a/+/#', 'a/b', true],
  ['a/b', 'a/b', true],
  ['a/b', 'a/b/', false],
  ['a/b', 'A/b', false],
  ['/a', '/a', true],
  ['/a', 'a', false],
  ['#', '$SYS/broker/load', false],
  ['+/broker/load', '$SYS/broker/load', false],
  ['$SYS/#', '$SYS/broker/load', true],
  ['$SYS/+/load', '$SYS/broker/load', true],
  ['a/#', '$SYS/a', false],
];

describe('topicMatches', () => {
  it.each(TABLE)('%s vs %s → %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  it('strips $share/<group>/ before matching', () => {
    const shared = parseTopicFilter('$share/workers/sensors/+/temp');
    expect(shared).toEqual({ subscription: '$share/workers/sensors/+/temp', filter: 'sensors/+/temp', shareGroup: 'workers' });
    expect(topicMatches(shared.filter, 'sensors/k1/temp')).toBe(true);
    // The deliberately wrong case: unstripped, the filter matches nothing a device publishes.
    expect(topicMatches(shared.subscription, 'sensors/k1/temp')).toBe(false);
  });
});

describe('topicFilterProblem', () => {
  it.each([
    ['', 'must not be empty'],
    ['a/#/b', '"#" must be the whole last level'],
    ['a#', '"#" must be the whole last level'],
    ['a/b+', '"+" must be a whole level'],
    ['a\u0000b', 'NUL'],
    ['$share//a', 'needs a group name'],
    ['$share/g+/a', 'needs a group name'],
    ['$share/g', 'has no filter after the group'],
    ['$share/g/', 'has no filter after the group'],
  ])('refuses %j', (filter, message) => {
    expect(topicFilterProblem(filter)).toContain(message);
    expect(() => parseTopicFilter(filter)).toThrow(message);
  });

  it.each(['a', 'a/b', '#', '+', 'a/+/#', '/', '$SYS/#', '$share/g/#'])('accepts %j', (filter) => {
    expect(topicFilterProblem(filter)).toBeUndefined();
  });
});
