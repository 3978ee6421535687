/**
 * Watches the offsets one partition consumer receives for forward jumps. On a reliable topic an Exclusive or
 * Failover subscription gets each partition's offsets contiguously (a redelivery repeats an offset, never skips
 * one), so a jump means the broker skipped messages for this subscription for good (its live-tail defect,
 * docs/danube-protocol.md §9.4).
 *
 * Only jumps between new offsets of one stream are counted: when a stream opens, the broker first redelivers
 * what was unacked, at most the subscription's window, and some of it may have been delivered to (and partly
 * acked by) another consumer meanwhile (a takeover, a failover). So the first `window` messages of a stream only
 * move the high-water mark; after them, a new offset must follow the highest one seen.
 */
export class OffsetGapDetector {
  /** Highest offset received on this partition, over every stream. */
  private high: bigint | undefined;
  /** Messages received on the current stream. */
  private received = 0;

  constructor(private readonly window: number) {}

  /** A new ReceiveMessages stream starts. */
  newStream(): void {
    this.received = 0;
  }

  /** The skipped range when `offset` jumps past the next expected one, else undefined. */
  observe(offset: string): { first: bigint; last: bigint } | undefined {
    let value: bigint;
    try {
      value = BigInt(offset);
    } catch {
      return undefined;
    }
    this.received++;
    const high = this.high;
    if (high !== undefined && value <= high) return undefined;
    this.high = value;
    if (high === undefined || this.received <= this.window || value === high + 1n) return undefined;
    return { first: high + 1n, last: value - 1n };
  }
}
