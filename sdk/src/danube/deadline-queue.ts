/** What a DeadlineQueue calls when a deadline passes. */
export interface Expiring {
  expired(): void;
}

export interface DeadlineEntry {
  readonly at: number;
  call: Expiring | undefined;
  readonly lane: Lane;
}

interface Lane {
  readonly timeoutMs: number;
  entries: DeadlineEntry[];
  head: number;
  live: number;
  timer: NodeJS.Timeout | undefined;
}

/** Below this many dead entries a lane is not compacted: splicing would cost more than it frees. */
const COMPACT_MIN = 1024;

/**
 * Deadlines of many concurrent calls with one timer per distinct timeout instead of one per call (issue 16: a
 * Node timer per call is a measurable share of a lean unary call). Calls with the same timeout expire in the
 * order they were added, so each timeout has a FIFO lane whose head holds the next deadline. Cancelling is O(1)
 * amortized; entries of finished calls are dropped from the head or, when a slow call holds the head, by
 * compaction once they outnumber the live ones, so memory stays proportional to the calls in flight.
 */
export class DeadlineQueue {
  private readonly lanes = new Map<number, Lane>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** `call.expired()` runs `timeoutMs` from now unless `cancel` comes first. */
  add(timeoutMs: number, call: Expiring): DeadlineEntry {
    let lane = this.lanes.get(timeoutMs);
    if (!lane) {
      lane = { timeoutMs, entries: [], head: 0, live: 0, timer: undefined };
      this.lanes.set(timeoutMs, lane);
    }
    const entry: DeadlineEntry = { at: this.now() + timeoutMs, call, lane };
    lane.entries.push(entry);
    lane.live++;
    if (!lane.timer) this.arm(lane, timeoutMs);
    return entry;
  }

  cancel(entry: DeadlineEntry): void {
    if (!entry.call) return;
    entry.call = undefined;
    const lane = entry.lane;
    lane.live--;
    this.trim(lane);
  }

  /** Calls waiting for their deadline (for tests). */
  get size(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.live;
    return n;
  }

  /** Entries held, live or finished (for tests of the memory bound). */
  get held(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.entries.length - lane.head;
    return n;
  }

  private arm(lane: Lane, delayMs: number): void {
    lane.timer = setTimeout(() => this.fire(lane), Math.max(0, delayMs)).unref();
  }

  private fire(lane: Lane): void {
    lane.timer = undefined;
    const now = this.now();
    while (lane.head < lane.entries.length) {
      const entry = lane.entries[lane.head] as DeadlineEntry;
      const call = entry.call;
      if (call && entry.at > now) break;
      lane.head++;
      if (call) {
        entry.call = undefined;
        lane.live--;
        call.expired();
      }
    }
    this.trim(lane);
    const next = lane.entries[lane.head];
    if (next) {
      if (!lane.timer) this.arm(lane, next.at - now);
    } else if (!lane.timer && this.lanes.get(lane.timeoutMs) === lane) {
      // Idle: forget the lane, so timeouts that are used once leave nothing behind.
      this.lanes.delete(lane.timeoutMs);
    }
  }

  /**
   * Drops finished entries from the head; compacts once they outnumber the live ones. The timer stays armed
   * when the lane empties: at one call in flight it is then armed once per timeout, not once per call.
   */
  private trim(lane: Lane): void {
    const entries = lane.entries;
    while (lane.head < entries.length && !(entries[lane.head] as DeadlineEntry).call) lane.head++;
    if (lane.head === entries.length) {
      entries.length = 0;
      lane.head = 0;
      return;
    }
    const dead = entries.length - lane.live;
    if (dead > COMPACT_MIN && dead > lane.live) {
      lane.entries = entries.slice(lane.head).filter((e) => e.call !== undefined);
      lane.head = 0;
    }
  }
}
