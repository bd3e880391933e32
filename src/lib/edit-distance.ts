/** Levenshtein distance (insertions, deletions, substitutions cost 1), O(n·m) time, O(m) memory. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length]!;
}

/**
 * Edit distance divided by the longer length: 0 when the accepted text survives unchanged,
 * 1 when nothing of it is left.
 */
export function normalizedEditDistance(accepted: string, remaining: string): number {
  const longest = Math.max(accepted.length, remaining.length);
  return longest === 0 ? 0 : editDistance(accepted, remaining) / longest;
}

/** Characters of the accepted text still present: its length less the edits made to it, at least 0. */
export function retainedChars(accepted: string, remaining: string): number {
  return Math.max(0, accepted.length - editDistance(accepted, remaining));
}
