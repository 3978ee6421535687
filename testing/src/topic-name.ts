import { invalidArgument } from './broker-error.js';

/**
 * One part of a topic name: Rust `char::is_alphanumeric` (Unicode Alphabetic or Numeric), '_' and '-'.
 * Empty parts pass, as in the broker (docs/danube-protocol.md §6.1 quirks).
 */
const PART = /^[\p{Alphabetic}\p{N}_-]*$/u;

/** Partition marker of `<base>-part-<i>` topics (docs/danube-protocol.md §6.2, §6.3). */
const PARTITION_MARKER = '-part-';

/**
 * Validates a topic name exactly like the broker's `validate_topic_format` (docs/danube-protocol.md §6.1): split on '/',
 * exactly 3 parts, each of letters/digits/'_'/'-'. Returns the namespace, which is the second part, so
 * `a/b/c` passes with namespace `b` and `//x` with namespace ''.
 */
export function topicNamespace(name: string): string {
  const parts = name.split('/');
  if (parts.length !== 3 || !parts.every((part) => PART.test(part))) {
    throw invalidArgument(
      `The topic name ${JSON.stringify(name)} is not valid: expected /<namespace>/<topic> with letters, digits, '_' and '-' only`,
    );
  }
  return parts[1] as string;
}

/** The base name of a `<base>-part-<i>` topic, or undefined for a non-partitioned name. */
export function partitionBase(name: string): string | undefined {
  const at = name.lastIndexOf(PARTITION_MARKER);
  return at < 0 ? undefined : name.slice(0, at);
}

/** Namespace names are accepted with or without a leading slash (docs/danube-protocol.md §13). */
export function normalizeNamespace(name: string): string {
  return name.startsWith('/') ? name.slice(1) : name;
}
