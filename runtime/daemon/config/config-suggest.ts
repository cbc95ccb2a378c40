/**
 * "Did you mean" for unknown field names: the known name written the same once case and "_" are
 * ignored (maxRestarts → max_restarts), else the only known name it begins (window → window_ms),
 * else the nearest by edit distance (adjacent transpositions count as one edit) when it is close
 * enough to be a typo rather than another word.
 */
export function suggest(name: string, known: readonly string[]): string | undefined {
  const squashed = squash(name);
  const same = known.find((candidate) => squash(candidate) === squashed);
  if (same !== undefined) return same;
  // A name cut short ("window" for window_ms), when it can only be one field.
  const extended = name.length >= 3 ? known.filter((candidate) => candidate.startsWith(name.toLowerCase())) : [];
  if (extended.length === 1) return extended[0];
  const limit = Math.max(1, Math.min(3, Math.floor(name.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function squash(name: string): string {
  return name.replaceAll("_", "").replaceAll("-", "").toLowerCase();
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = value;
    }
  }
  return d[rows * cols - 1]!;
}
