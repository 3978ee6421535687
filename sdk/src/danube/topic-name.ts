import { DanubeError } from './errors.js';

// Stricter than the broker (docs/danube-protocol.md §6.1): no empty parts and a leading slash required, because the broker
// accepts `//x` and `a/b/c` but then treats them in surprising ways.
const SEGMENT = /^[\p{L}\p{N}_-]+$/u;
const PARTITION_MARKER = '-part-';

/** Checks `/<namespace>/<topic>` locally so a bad name fails before anything is sent. */
export function validateTopicName(topic: string, what = 'topic'): void {
  if (typeof topic !== 'string' || topic.length === 0) {
    throw new DanubeError(`${what} name is empty; expected /<namespace>/<topic>`, { code: 'DC_ERR_INVALID_TOPIC', retryable: false });
  }
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== '' || !SEGMENT.test(parts[1] ?? '') || !SEGMENT.test(parts[2] ?? '')) {
    throw new DanubeError(
      `${what} name "${topic}" is invalid: expected /<namespace>/<topic> where both parts use only letters, digits, _ and -`,
      { code: 'DC_ERR_INVALID_TOPIC', retryable: false },
    );
  }
}

/** Base names of partitioned topics must not already look like a partition (the broker's prefix scans, docs/danube-protocol.md §6.2). */
export function validatePartitionedBase(topic: string): void {
  validateTopicName(topic);
  if (topic.includes(PARTITION_MARKER)) {
    throw new DanubeError(`topic name "${topic}" contains "${PARTITION_MARKER}", which Danube reserves for partitions`, {
      code: 'DC_ERR_INVALID_TOPIC',
      retryable: false,
    });
  }
}

/** `<base>-part-<i>`, the broker's partition naming (docs/danube-protocol.md §6.3). */
export function partitionTopic(base: string, index: number): string {
  return `${base}${PARTITION_MARKER}${index}`;
}

/** Index of a partition topic name, or undefined for a plain topic. */
export function partitionIndex(topic: string): number | undefined {
  const at = topic.lastIndexOf(PARTITION_MARKER);
  if (at < 0) return undefined;
  const n = Number(topic.slice(at + PARTITION_MARKER.length));
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}
