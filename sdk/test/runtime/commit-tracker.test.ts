import { describe, expect, it } from 'vitest';
import { CommitTracker } from '../../src/runtime/commit-tracker.js';

/** Deterministic shuffle (mulberry32), so a failure can be replayed from its seed. */
function shuffled<T>(items: T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('CommitTracker', () => {
  it('hands out only the oldest consecutive done items', () => {
    const tracker = new CommitTracker<string>();
    const [a, b, c] = ['a', 'b', 'c'].map((item) => tracker.add(item)) as [number, number, number];
    expect([a, b, c]).toEqual([0, 1, 2]);
    tracker.complete(b);
    tracker.complete(c);
    expect(tracker.ready()).toEqual([]);
    tracker.complete(a);
    expect(tracker.ready()).toEqual(['a', 'b', 'c']);
    tracker.release(3);
    expect(tracker.size).toBe(0);
    expect(tracker.add('d')).toBe(3);
  });

  it('commits in acceptance order whatever order completions arrive in', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const tracker = new CommitTracker<number>();
      const count = 40;
      for (let i = 0; i < count; i++) tracker.add(i);
      const committed: number[] = [];
      for (const seq of shuffled([...Array(count).keys()], seed)) {
        tracker.complete(seq);
        // Commit sometimes, as a committer busy with an earlier batch would.
        if (seq % 3 === 0) {
          const batch = tracker.ready();
          tracker.release(batch.length);
          committed.push(...batch);
        }
        // Nothing handed out may still be pending, and nothing skipped.
        expect(committed).toEqual([...Array(committed.length).keys()]);
      }
      const rest = tracker.ready();
      tracker.release(rest.length);
      committed.push(...rest);
      expect(committed, `seed ${seed}`).toEqual([...Array(count).keys()]);
      expect(tracker.size).toBe(0);
    }
  });

  it('refuses unknown sequence numbers and releasing pending items', () => {
    const tracker = new CommitTracker<string>();
    tracker.add('a');
    tracker.add('b');
    expect(() => tracker.complete(2)).toThrow(RangeError);
    tracker.complete(1);
    expect(() => tracker.release(1)).toThrow(RangeError);
    tracker.complete(0);
    tracker.release(2);
    expect(() => tracker.complete(0)).toThrow(RangeError);
    expect(tracker.pending()).toEqual([]);
  });
});
