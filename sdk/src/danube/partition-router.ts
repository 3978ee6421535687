const FNV_OFFSET_BASIS = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = 0xffffffffffffffffn;

/** FNV-1a 64-bit over the UTF-8 bytes of `key`, as the Rust and Go clients compute it (docs/danube-protocol.md §6.3). */
export function fnv1a64(key: string | Uint8Array): bigint {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  let hash = FNV_OFFSET_BASIS;
  for (const byte of bytes) {
    hash ^= BigInt(byte);
    hash = (hash * FNV_PRIME) & MASK_64;
  }
  return hash;
}

/**
 * Picks the partition of each message: FNV-1a 64 of the routing key modulo the partition count, so the
 * same key lands on the same partition as with the reference clients; round-robin from partition 0 otherwise.
 */
export class PartitionRouter {
  private next = 0;

  constructor(readonly partitions: number) {}

  route(key?: string): number {
    if (this.partitions <= 1) return 0;
    if (key !== undefined) return Number(fnv1a64(key) % BigInt(this.partitions));
    const index = this.next;
    this.next = (this.next + 1) % this.partitions;
    return index;
  }
}
