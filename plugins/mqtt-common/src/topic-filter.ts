/** A parsed subscription filter: the filter as matched against topics, and the shared-subscription group if any. */
export interface TopicFilter {
  /** The filter as given, sent in SUBSCRIBE (`$share/<group>/…` included). */
  readonly subscription: string;
  /** The filter topics are matched against: `$share/<group>/` stripped (MQTT 5 §4.8.2). */
  readonly filter: string;
  /** Shared-subscription group, or undefined. */
  readonly shareGroup: string | undefined;
}

const SHARE_PREFIX = '$share/';

/**
 * Why `filter` is not a valid MQTT topic filter (MQTT 5 §4.7.1 and MQTT 5 §4.8.2), or undefined. `#` only as the last
 * level and alone in it; `+` alone in its level; no NUL; not empty; a shared filter names a group without
 * wildcards and a filter after it.
 */
export function topicFilterProblem(filter: string): string | undefined {
  if (typeof filter !== 'string' || filter.length === 0) return 'a topic filter must not be empty';
  if (filter.includes('\u0000')) return 'a topic filter must not contain NUL';
  if (Buffer.byteLength(filter, 'utf8') > 65535) return 'a topic filter must be at most 65535 bytes';
  let rest = filter;
  if (filter.startsWith(SHARE_PREFIX)) {
    const slash = filter.indexOf('/', SHARE_PREFIX.length);
    const group = slash < 0 ? filter.slice(SHARE_PREFIX.length) : filter.slice(SHARE_PREFIX.length, slash);
    if (group === '' || /[+#]/.test(group)) return `shared subscription "${filter}" needs a group name without wildcards: $share/<group>/<filter>`;
    if (slash < 0 || slash === filter.length - 1) return `shared subscription "${filter}" has no filter after the group: $share/<group>/<filter>`;
    rest = filter.slice(slash + 1);
  }
  const levels = rest.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return `"#" must be the whole last level of "${filter}"`;
    if (level.includes('+') && level !== '+') return `"+" must be a whole level of "${filter}"`;
  }
  return undefined;
}

/** Parses a valid filter (check it with `topicFilterProblem` first; this throws a RangeError with its reason). */
export function parseTopicFilter(subscription: string): TopicFilter {
  const problem = topicFilterProblem(subscription);
  if (problem) throw new RangeError(problem);
  if (!subscription.startsWith(SHARE_PREFIX)) return { subscription, filter: subscription, shareGroup: undefined };
  const slash = subscription.indexOf('/', SHARE_PREFIX.length);
  return { subscription, filter: subscription.slice(slash + 1), shareGroup: subscription.slice(SHARE_PREFIX.length, slash) };
}

/**
 * Whether the concrete `topic` matches `filter` (already stripped of `$share/<group>/`), per MQTT 5 §4.7:
 * `+` matches exactly one level (an empty one too), `#` matches the rest including the parent level itself
 * (`a/#` matches `a`), and a topic starting with `$` is not matched by a filter starting with a wildcard.
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}
