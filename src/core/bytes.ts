/**
 * Byte helpers every layer that reads a stream in pieces needs.
 *
 * @module
 */

/** `chunks` (of `total` bytes together) copied into one new array. */
export function concatBytes(chunks: readonly Uint8Array[], total: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}
