import { randomBytes } from 'node:crypto';

const TWO_POW_53 = 2n ** 53n;

/**
 * A random uint64 as a decimal string, like the broker's `get_random_id` (docs/danube-protocol.md §2.3). Values below
 * 2^53 are re-drawn so every id exercises the client's big-integer handling.
 */
export function randomId(taken?: { has(id: string): boolean }): string {
  for (;;) {
    const value = randomBytes(8).readBigUInt64BE();
    if (value < TWO_POW_53) continue;
    const id = value.toString();
    if (!taken?.has(id)) return id;
  }
}
