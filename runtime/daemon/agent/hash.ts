/**
 * A fast, well-mixed 32-bit string hash for the consistent-hash ring: FNV-1a over the string's
 * UTF-16 code units, then murmur3's finalizer (FNV alone clusters similar short keys such as
 * "user-1", "user-2" on the ring). Stable across processes and versions: keys must land on the
 * same backend wherever the ring is built (daemon and direct-mode clients alike).
 */
export function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
