/** One received QoS 1 or 2 PUBLISH waiting for its PUBACK (QoS 1) or PUBREC (QoS 2). */
export interface PubackEntry {
  readonly messageId: number;
  readonly epoch: number;
  readonly qos: 1 | 2;
  /** Danube has the message (or it needs no publish). */
  done: boolean;
  /** Called once when it becomes done (for a redelivered copy waiting on it). */
  onDone?: () => void;
}

export interface PubackWindowEvents {
  /** Sends the PUBACK (PUBREC for QoS 2); false when the connection that received it is gone (then it is dropped, not retried). */
  send(messageId: number, epoch: number, qos: 1 | 2): boolean;
  /** PUBACKs went out: entries left the window. */
  flushed(): void;
}

/**
 * The in-order deferred PUBACK window (docs/delivery-semantics.md §10): QoS 1 messages join a FIFO on receipt; each is marked done
 * when Danube has it (or it needs no publish: unmatched, an extra copy), and PUBACKs leave from the head while
 * the head is done, so they go out in receipt order (MQTT 5 §4.6) and never before Danube has the message and
 * every message before it. QoS 2 PUBRECs share the FIFO: MQTT 5 §4.6 orders PUBACK and PUBREC alike. At most `capacity` entries are outstanding: the caller parks a PUBLISH that finds it full.
 */
export class PubackWindow {
  private readonly fifo: PubackEntry[] = [];
  private head = 0;
  private highWater = 0;
  private sentCount = 0;

  constructor(
    readonly capacity: number,
    private readonly events: PubackWindowEvents,
  ) {}

  /** Entries waiting for their PUBACK. */
  get size(): number {
    return this.fifo.length - this.head;
  }

  /** No room for another entry: a QoS 1 PUBLISH arriving now must wait (the broker exceeded our Receive Maximum). */
  get full(): boolean {
    return this.size >= this.capacity;
  }

  /** The most entries ever outstanding at once. */
  get maxSize(): number {
    return this.highWater;
  }

  get pubacksSent(): number {
    return this.sentCount;
  }

  add(messageId: number, epoch: number, qos: 1 | 2 = 1): PubackEntry {
    const entry: PubackEntry = { messageId, epoch, qos, done: false };
    this.fifo.push(entry);
    this.highWater = Math.max(this.highWater, this.size);
    return entry;
  }

  /** Marks `entry` done and sends every PUBACK now due. Entries of a dropped connection are ignored. */
  complete(entry: PubackEntry): void {
    if (!entry.done) {
      entry.done = true;
      entry.onDone?.();
    }
    const before = this.size;
    while (this.head < this.fifo.length && (this.fifo[this.head] as PubackEntry).done) {
      const next = this.fifo[this.head++] as PubackEntry;
      if (this.events.send(next.messageId, next.epoch, next.qos)) this.sentCount++;
    }
    this.compact();
    if (this.size < before) this.events.flushed();
  }

  /**
   * The connection of `epoch` went down: no PUBACK may go out for its entries on a later connection, so they
   * leave the window; they are returned (a kept session redelivers them with the same packet ids).
   */
  dropEpoch(epoch: number): PubackEntry[] {
    const live = this.fifo.slice(this.head);
    this.fifo.length = 0;
    this.fifo.push(...live.filter((e) => e.epoch !== epoch));
    this.head = 0;
    return live.filter((e) => e.epoch === epoch);
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.fifo.length) {
      this.fifo.splice(0, this.head);
      this.head = 0;
    }
  }
}
