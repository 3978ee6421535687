import { describe, expect, it } from 'vitest';
import { OffsetGapDetector } from '../../src/danube/offset-gap-detector.js';

const feed = (detector: OffsetGapDetector, offsets: number[]) => offsets.map((o) => detector.observe(String(o))).filter((g) => g !== undefined);

describe('OffsetGapDetector', () => {
  it('reports a forward jump between new offsets once the first window of the stream is through', () => {
    const detector = new OffsetGapDetector(3);
    expect(feed(detector, [0, 1, 2, 3, 4, 9, 10])).toEqual([{ first: 5n, last: 8n }]);
  });

  it('ignores repeats and older offsets (redeliveries), in any order', () => {
    const detector = new OffsetGapDetector(3);
    expect(feed(detector, [0, 1, 2, 3, 1, 4, 0, 3, 5, 2, 6])).toEqual([]);
  });

  it('takes the first window of each stream as redeliveries that may skip what another consumer acked', () => {
    const detector = new OffsetGapDetector(3);
    feed(detector, [0, 1, 2, 3]);
    detector.newStream();
    // A takeover: someone else got 4..9 and acked 5 and 7; their unacked 4, 6, 8 come to us first, then 10.
    expect(feed(detector, [4, 6, 8, 9, 10, 11])).toEqual([]);
    expect(feed(detector, [13])).toEqual([{ first: 12n, last: 12n }]);
  });

  it('never reports on offsets that stay 0 (non-reliable topics) or are not numbers', () => {
    const detector = new OffsetGapDetector(1);
    expect(feed(detector, [0, 0, 0, 0])).toEqual([]);
    expect(detector.observe('not-a-number')).toBeUndefined();
  });
});
