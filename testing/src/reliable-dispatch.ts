import type { StreamMessageWire } from '@danube-connect/sdk/internal';
import type { Consumer } from './consumer.js';
import { redeliveryDelayMs } from './failure-policy.js';
import type { FailurePolicy } from './failure-policy.js';

/** Where the dispatcher sends messages; implemented by Subscription. */
export interface DispatchTarget {
  /** A consumer for the message, null when none can take it now, 'skip' when none ever will (KeyShared filters). */
  pick(message: StreamMessageWire): Consumer | null | 'skip';
  hasActiveConsumer(): boolean;
  /** KeyShared: a message whose consumer is away must not hold back other keys. */
  readonly keyed: boolean;
  /** Exclusive, Shared and Failover stop dispatching newer messages behind a blocked one (docs/danube-protocol.md §9.4). */
  readonly blocksOnPoison: boolean;
  deadLetter(message: StreamMessageWire, deliveries: number, reason: string | undefined): void;
}

type EntryState = 'in_flight' | 'waiting' | 'ready' | 'blocked';

/** One unacked message of the subscription window. */
interface PendingEntry {
  readonly offset: number;
  readonly message: StreamMessageWire;
  deliveries: number;
  state: EntryState;
  consumer: Consumer | undefined;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Reliable dispatch of one subscription (docs/danube-protocol.md §9.4): a cursor over the topic log, a window of unacked
 * messages, ack timeouts, backoff redelivery and the poison policy. Acks and nacks find their entry by
 * topic offset only; offsets not in the window (late, duplicate, unknown) are ignored.
 */
export class ReliableDispatch {
  private nextOffset: number;
  private readonly entries = new Map<number, PendingEntry>();
  private readonly ready = new Set<number>();
  private blocked = 0;
  private pumping = false;
  private pumpAgain = false;
  private closed = false;

  constructor(
    private readonly log: readonly (StreamMessageWire | undefined)[],
    private readonly target: DispatchTarget,
    readonly policy: FailurePolicy,
    private readonly window: number,
    /** Emulated live-tail channel (TestBrokerOptions.liveTailCapacity); undefined = reads never skip. */
    private liveTailCapacity?: number | undefined,
  ) {
    // A new subscription starts at the topic's current end ("latest", docs/danube-protocol.md §9.4).
    this.nextOffset = log.length;
  }

  /** The lowest offset this subscription may still deliver: its oldest unacked one, else its cursor. */
  get firstUnacked(): number {
    // Entries are added in offset order and never re-added, so the Map's first key is the lowest.
    const first = this.entries.keys().next();
    return first.done ? this.nextOffset : first.value;
  }

  /** Offsets delivered or waiting and not acked yet. */
  get unacked(): number {
    return this.entries.size;
  }

  /** Dispatches what the window and the consumers allow; called on append, ack and consumer changes. */
  pump(): void {
    if (this.closed) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.pumpOnce();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  ack(offset: number): void {
    const entry = this.entries.get(offset);
    if (!entry) return;
    // An ack for a blocked message releases it too (unconfirmed: the document only says it stays stuck).
    this.remove(entry);
    this.pump();
  }

  nack(offset: number, delayMs: number | undefined, reason: string | undefined): void {
    const entry = this.entries.get(offset);
    if (!entry || entry.state !== 'in_flight') return;
    this.fail(entry, delayMs, reason);
  }

  /** A consumer left or was taken over: its in-flight messages become eligible for immediate redelivery (docs/danube-protocol.md §9.1, §9.2). */
  release(consumer: Consumer): void {
    for (const entry of this.entries.values()) {
      if (entry.state === 'in_flight' && entry.consumer === consumer) this.makeReady(entry);
    }
  }

  /** Offsets skipped by the emulated live-tail lag so far. */
  skipped = 0;

  /** TestBroker.restart(): every unacked message is redelivered to whoever attaches next. */
  releaseAll(): void {
    // A subscription resumed from its cursor reads through the WAL's stateful reader, which never skips (docs/danube-protocol.md §9.4).
    this.liveTailCapacity = undefined;
    for (const entry of this.entries.values()) {
      if (entry.state === 'in_flight' || entry.state === 'waiting') this.makeReady(entry);
    }
  }

  close(): void {
    this.closed = true;
    for (const entry of this.entries.values()) clearTimeout(entry.timer);
  }

  private pumpOnce(): void {
    if (!this.target.hasActiveConsumer()) return;
    if (this.ready.size > 0) {
      for (const offset of [...this.ready].sort((a, b) => a - b)) {
        const entry = this.entries.get(offset) as PendingEntry;
        const consumer = this.target.pick(entry.message);
        if (consumer === 'skip') {
          this.remove(entry);
          continue;
        }
        if (consumer === null) {
          if (this.target.keyed) continue;
          break;
        }
        this.ready.delete(offset);
        this.deliver(entry, consumer);
      }
    }
    const log = this.log;
    // The live tail lagged: the broker's broadcast channel drops the oldest messages this reader has not taken.
    const capacity = this.liveTailCapacity;
    if (capacity !== undefined && log.length - this.nextOffset > capacity) {
      this.skipped += log.length - capacity - this.nextOffset;
      this.nextOffset = log.length - capacity;
    }
    while (
      this.nextOffset < log.length &&
      this.entries.size < this.window &&
      !(this.blocked > 0 && this.target.blocksOnPoison)
    ) {
      const offset = this.nextOffset;
      const message = log[offset] as StreamMessageWire;
      const consumer = this.target.pick(message);
      if (consumer === 'skip') {
        // KeyShared: no consumer's filters match the key, so the subscription never gets it (docs/danube-protocol.md §9.5).
        this.nextOffset++;
        continue;
      }
      if (consumer === null && !this.target.keyed) break;
      this.nextOffset++;
      const entry: PendingEntry = { offset, message, deliveries: 0, state: 'ready', consumer: undefined, timer: undefined };
      this.entries.set(offset, entry);
      if (consumer === null) this.ready.add(offset);
      else this.deliver(entry, consumer);
    }
  }

  private deliver(entry: PendingEntry, consumer: Consumer): void {
    entry.deliveries++;
    entry.state = 'in_flight';
    entry.consumer = consumer;
    entry.timer = setTimeout(() => this.onAckTimeout(entry), this.policy.ackTimeoutMs).unref();
    consumer.offer(entry.message, false);
  }

  private onAckTimeout(entry: PendingEntry): void {
    if (entry.state !== 'in_flight' || this.entries.get(entry.offset) !== entry) return;
    this.fail(entry, undefined, undefined);
  }

  private fail(entry: PendingEntry, nackDelayMs: number | undefined, reason: string | undefined): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.consumer = undefined;
    // max_redelivery_count redeliveries are allowed; the failure after the last one exhausts the message.
    if (entry.deliveries > this.policy.maxRedeliveryCount) {
      this.poison(entry, reason);
      return;
    }
    entry.state = 'waiting';
    const delay = redeliveryDelayMs(this.policy, entry.deliveries, nackDelayMs);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (this.entries.get(entry.offset) !== entry || entry.state !== 'waiting') return;
      this.makeReady(entry);
      this.pump();
    }, delay).unref();
  }

  private poison(entry: PendingEntry, reason: string | undefined): void {
    switch (this.policy.poisonPolicy) {
      case 'block':
        entry.state = 'blocked';
        this.blocked++;
        return;
      case 'dead_letter':
        this.target.deadLetter(entry.message, entry.deliveries, reason);
        break;
      case 'drop':
        break;
    }
    this.remove(entry);
    this.pump();
  }

  private makeReady(entry: PendingEntry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.consumer = undefined;
    entry.state = 'ready';
    this.ready.add(entry.offset);
  }

  private remove(entry: PendingEntry): void {
    clearTimeout(entry.timer);
    if (entry.state === 'blocked') this.blocked--;
    this.ready.delete(entry.offset);
    this.entries.delete(entry.offset);
  }
}
