import { describe, expect, it } from 'vitest';
import { fnv1a64, PartitionRouter } from '../../src/danube/partition-router.js';

// Generated with Go's standard library hash/fnv (fnv.New64a), independent of our implementation;
// the Go reference client routes keys with the same function (docs/danube-protocol.md §6.3).
// [key, hash hex, mod 3, mod 4, mod 8]
const VECTORS: Array<[string, string, number, number, number]> = [
  ['', 'cbf29ce484222325', 2, 1, 5],
  ['a', 'af63dc4c8601ec8c', 1, 0, 4],
  ['foobar', '85944171f73967e8', 0, 0, 0],
  ['sensor-1', 'a0931a0666720f29', 2, 1, 1],
  ['orders/42', 'a62399f64f6961df', 0, 3, 7],
  ['device-ÄÖÜ-温度', '5478dc090883140e', 0, 2, 6],
  ['key with spaces', '726ddf59e3a13e7b', 1, 3, 3],
  ['0', 'af63ad4c86019caf', 2, 3, 7],
];

describe('fnv1a64', () => {
  it.each(VECTORS)('hashes %j like Go hash/fnv', (key, hex) => {
    expect(fnv1a64(key).toString(16).padStart(16, '0')).toBe(hex);
  });

  it('hashes the UTF-8 bytes, so a string and its encoding agree', () => {
    expect(fnv1a64(Buffer.from('device-ÄÖÜ-温度', 'utf8'))).toBe(fnv1a64('device-ÄÖÜ-温度'));
  });
});

describe('PartitionRouter', () => {
  it.each(VECTORS)('routes key %j to hash mod N', (key, _hex, mod3, mod4, mod8) => {
    expect(new PartitionRouter(3).route(key)).toBe(mod3);
    expect(new PartitionRouter(4).route(key)).toBe(mod4);
    expect(new PartitionRouter(8).route(key)).toBe(mod8);
  });

  it('sends the same key to the same partition every time', () => {
    const router = new PartitionRouter(5);
    const first = router.route('sensor-7');
    for (let i = 0; i < 20; i++) expect(router.route('sensor-7')).toBe(first);
  });

  it('round-robins keyless messages starting at partition 0, unaffected by keyed ones', () => {
    const router = new PartitionRouter(3);
    const picks = [router.route(), router.route(), router.route('x'), router.route(), router.route()];
    expect([picks[0], picks[1], picks[3], picks[4]]).toEqual([0, 1, 2, 0]);
  });

  it('always picks 0 for a plain topic', () => {
    const router = new PartitionRouter(1);
    expect([router.route(), router.route('k'), router.route()]).toEqual([0, 0, 0]);
  });
});
