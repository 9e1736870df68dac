/**
 * "Did you mean …?" for an unknown function name: the registered name that is the same but for
 * case and `_`/`-` (VeighNa's `get_all_contracts` → `getAllContracts`), or else within two edits.
 * Only on the NOT_FOUND path, and bounded, so a peer sending long names cannot make it costly.
 */

const MAX_COMPARED_LENGTH = 64;

export function nearestName(unknown: string, names: Iterable<string>): string | undefined {
  if (unknown.length > MAX_COMPARED_LENGTH) return undefined;
  const folded = fold(unknown);
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of names) {
    if (name.length > MAX_COMPARED_LENGTH) continue;
    if (fold(name) === folded) return name;
    const distance = editDistance(unknown.toLowerCase(), name.toLowerCase(), bestDistance);
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best;
}

function fold(name: string): string {
  return name.replace(/[_-]/g, "").toLowerCase();
}

/** Levenshtein distance, or `limit` as soon as it is sure to be at least that. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin >= limit) return limit;
    previous = current;
  }
  return Math.min(previous[b.length]!, limit);
}
