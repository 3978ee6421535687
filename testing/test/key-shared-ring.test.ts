import { describe, expect, it } from 'vitest';
import { globToRegExp, KeySharedRing } from '../src/key-shared-ring.js';

describe('KeyShared placement (docs/danube-protocol.md §9.5)', () => {
  it('matches globs with * and ? and nothing else special', () => {
    expect(globToRegExp('orders.*').test('orders.eu')).toBe(true);
    expect(globToRegExp('orders.*').test('ordersXeu')).toBe(false);
    expect(globToRegExp('dev-?').test('dev-1')).toBe(true);
    expect(globToRegExp('dev-?').test('dev-12')).toBe(false);
    expect(globToRegExp('a+b(c)').test('a+b(c)')).toBe(true);
    expect(globToRegExp('*').test('')).toBe(true);
  });

  it('maps a key to one member consistently and skips unusable members', () => {
    const ring = new KeySharedRing<{ name: string }>();
    const members = ['a', 'b', 'c'].map((name) => ({ name }));
    for (const member of members) ring.add(member);
    const owners = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const owner = ring.lookup(`key-${i}`, () => true);
      expect(ring.lookup(`key-${i}`, () => true)).toBe(owner);
      owners.add(owner?.name ?? '');
    }
    expect(owners).toEqual(new Set(['a', 'b', 'c']));
    expect(ring.lookup('key-1', (m) => m.name === 'c')?.name).toBe('c');
    expect(ring.lookup('key-1', () => false)).toBeUndefined();
  });
});
