/**
 * The conformance kit's verdicts on what arrived: which records are missing, whether each key kept its order,
 * and the labelled errors that name the broken guarantee in a failing case's output.
 */

/** The guarantees a case can find broken; each failure message starts with one, in brackets. */
export type Guarantee = 'ready' | 'at-least-once' | 'per-key order' | 'ack after write' | 'stop report' | 'back-pressure' | 'metrics';

export function violation(guarantee: Guarantee, detail: string): Error {
  return new Error(`[${guarantee}] ${detail}`);
}

/** One record as it arrived where the connector delivers (Danube for sources, the external system for sinks). */
export interface Delivery {
  /** The record's number: its payload was that decimal number. */
  number: number;
  /** Its key: the routing key (sources: as stored in Danube) or the key the kit sent it with (sinks). */
  key: string;
}

/** Delivered payload texts that are not a record's number are not the kit's records and are left out. */
export function parseNumber(text: string): number | undefined {
  return /^(0|[1-9][0-9]*)$/.test(text) ? Number(text) : undefined;
}

/** `[1, 2, 3, 7, 9, 10]` → `"1-3, 7, 9-10"`, at most `limit` ranges. */
export function formatRanges(numbers: readonly number[], limit = 12): string {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] as number) + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return ranges.length > limit ? `${ranges.slice(0, limit).join(', ')}, … (${ranges.length - limit} more ranges)` : ranges.join(', ');
}

/** Records `0 … count - 1` that are not among the deliveries. */
export function missingRecords(count: number, deliveries: readonly Delivery[]): number[] {
  const seen = new Set(deliveries.map((d) => d.number));
  const missing: number[] = [];
  for (let n = 0; n < count; n++) if (!seen.has(n)) missing.push(n);
  return missing;
}

/** How many deliveries repeat a record delivered before (allowed: at-least-once). */
export function duplicateCount(deliveries: readonly Delivery[]): number {
  return deliveries.length - new Set(deliveries.map((d) => d.number)).size;
}

/**
 * The first place where a key's records arrived out of order, or undefined. Only first arrivals count:
 * at-least-once allows a record to come again later (after a restart, a redelivery), never to come first
 * after a record produced behind it on the same key.
 */
export function orderViolation(deliveries: readonly Delivery[]): string | undefined {
  const highest = new Map<string, number>();
  const seen = new Set<number>();
  for (const { number, key } of deliveries) {
    if (seen.has(number)) continue;
    seen.add(number);
    const before = highest.get(key);
    if (before !== undefined && number < before) {
      return `key ${JSON.stringify(key)}: record ${number} arrived first after record ${before}, which was produced after it`;
    }
    highest.set(key, Math.max(before ?? -1, number));
  }
  return undefined;
}
