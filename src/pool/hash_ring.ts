/**
 * A consistent-hash ring with virtual nodes (Karger et al., 1997). Each
 * backend owns `POINTS_PER_WEIGHT × weight` points on a 32-bit ring; a key
 * belongs to the first point at or after its own hash. Removing a backend
 * removes only its points, so only its keys move.
 *
 * @module
 */

/** Points per unit of weight: enough that five equal backends split keys within a few percent. */
export const POINTS_PER_WEIGHT = 160;
/** Cap on points per backend, so a weight of 10,000 cannot blow up the ring. */
const MAX_POINTS = 16_000;

/**
 * 32-bit FNV-1a over UTF-16 code units, finished with MurmurHash3's fmix32
 * so that similar keys (`10.0.0.1`, `10.0.0.2`) land far apart.
 */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A ring over a set of weighted ids, rebuilt only when the set changes. */
export class HashRing {
  #points = new Uint32Array(0);
  #owners: string[] = [];
  #members: Array<readonly [string, number]> = [];

  /** Rebuilds the ring if the ids or weights differ from the last call. */
  update(members: ReadonlyArray<{ readonly id: string; readonly weight: number }>): void {
    if (
      members.length === this.#members.length &&
      members.every((m, i) => m.id === this.#members[i]![0] && m.weight === this.#members[i]![1])
    ) return;
    this.#members = members.map((m) => [m.id, m.weight] as const);
    const entries: Array<[number, string]> = [];
    for (const m of members) {
      const n = Math.min(MAX_POINTS, Math.max(1, Math.round(POINTS_PER_WEIGHT * m.weight)));
      for (let i = 0; i < n; i++) entries.push([hash32(`${m.id}#${i}`), m.id]);
    }
    // Ties (two ids hashing to one point) go to the smaller id, so the ring
    // does not depend on the order members were listed in.
    entries.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    this.#points = Uint32Array.from(entries, (e) => e[0]);
    this.#owners = entries.map((e) => e[1]);
  }

  /** The id owning `key`, or `undefined` for an empty ring. */
  lookup(key: string): string | undefined {
    const n = this.#points.length;
    if (n === 0) return undefined;
    const h = hash32(key);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return this.#owners[lo === n ? 0 : lo];
  }
}
