/**
 * KeyShared placement (docs/danube-protocol.md §9.5): consumers sit on a hash ring and a message goes to the consumer owning
 * hash(key). The broker's exact hash and number of ring points are not in the protocol document; any stable
 * hash gives the same observable contract (one key → one consumer while membership is unchanged).
 */

const POINTS_PER_MEMBER = 64;

/** 32-bit FNV-1a over UTF-16 code units: cheap enough for the per-message path. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** `key_filters` globs: `*` any sequence, `?` one character, everything else literal (docs/danube-protocol.md §9.5). */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'su');
}

interface RingPoint<T> {
  hash: number;
  member: T;
}

export class KeySharedRing<T extends { readonly name: string }> {
  private points: RingPoint<T>[] = [];

  add(member: T): void {
    for (let i = 0; i < POINTS_PER_MEMBER; i++) {
      this.points.push({ hash: hash32(`${member.name}#${i}`), member });
    }
    this.points.sort((a, b) => a.hash - b.hash);
  }

  /** The first member clockwise from hash(key) that `usable` accepts. */
  lookup(key: string, usable: (member: T) => boolean): T | undefined {
    const points = this.points;
    if (points.length === 0) return undefined;
    const h = hash32(key);
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((points[mid] as RingPoint<T>).hash < h) lo = mid + 1;
      else hi = mid;
    }
    const first = (points[lo % points.length] as RingPoint<T>).member;
    if (usable(first)) return first;
    const rejected = new Set<T>([first]);
    for (let i = 1; i < points.length; i++) {
      const member = (points[(lo + i) % points.length] as RingPoint<T>).member;
      if (rejected.has(member)) continue;
      if (usable(member)) return member;
      rejected.add(member);
    }
    return undefined;
  }
}
