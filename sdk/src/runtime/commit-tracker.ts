/**
 * Items in acceptance order, each pending or done. Completions arrive in any order (acks of different topics
 * and partitions race); `ready` hands out only the oldest consecutive done items, so whatever is committed
 * from it never skips an item that is still pending (docs/delivery-semantics.md §2: commits go out in receipt order).
 */
export class CommitTracker<T> {
  private readonly items: T[] = [];
  private readonly done: boolean[] = [];
  /** Sequence number of items[0]. */
  private head = 0;

  /** Items added and not yet released. */
  get size(): number {
    return this.items.length;
  }

  /** Appends a pending item; returns its sequence number (0, 1, 2 … in acceptance order). */
  add(item: T): number {
    this.items.push(item);
    this.done.push(false);
    return this.head + this.items.length - 1;
  }

  /** Marks the item `seq` done. Throws for a sequence number never added or already released. */
  complete(seq: number): void {
    const index = seq - this.head;
    if (!Number.isInteger(index) || index < 0 || index >= this.items.length) {
      throw new RangeError(`commit tracker: no pending item ${seq} (pending are ${this.head}..${this.head + this.items.length - 1})`);
    }
    this.done[index] = true;
  }

  /** How many of the oldest items are done with no pending item before them. */
  readyCount(): number {
    let count = 0;
    while (count < this.done.length && this.done[count]) count++;
    return count;
  }

  /** The oldest consecutive done items, oldest first; they stay tracked until `release`. */
  ready(): T[] {
    return this.items.slice(0, this.readyCount());
  }

  /** Forgets the oldest `count` items, which must all be done (they were committed). */
  release(count: number): void {
    if (count > this.readyCount()) throw new RangeError(`commit tracker: cannot release ${count} items, only ${this.readyCount()} are done in order`);
    this.items.splice(0, count);
    this.done.splice(0, count);
    this.head += count;
  }

  /** Every item not released yet, oldest first. */
  pending(): readonly T[] {
    return this.items;
  }
}
