import { diffWordsWithSpace } from 'diff';

export interface DiffPart {
  kind: 'same' | 'added' | 'removed';
  text: string;
}

/**
 * Word-level diff for showing a rewrite (jsdiff), grouped the way editors show changes: within
 * each changed stretch all removed text comes first, then all added text, and a lone space
 * between two changes joins them, so "Thanks for your" → "I am sure" reads as one struck phrase
 * and one new one instead of alternating words. Removed + same parts give `before` back; same +
 * added parts give `after`.
 */
export function wordDiff(before: string, after: string): DiffPart[] {
  const changes = diffWordsWithSpace(before, after);
  const parts: DiffPart[] = [];
  let removed = '';
  let added = '';
  const flush = () => {
    if (removed) parts.push({ kind: 'removed', text: removed });
    if (added) parts.push({ kind: 'added', text: added });
    removed = added = '';
  };
  changes.forEach((change, i) => {
    const next = changes[i + 1];
    if (change.added) added += change.value;
    else if (change.removed) removed += change.value;
    else if ((removed || added) && /^\s+$/.test(change.value) && (next?.added || next?.removed)) {
      removed += change.value;
      added += change.value;
    } else {
      flush();
      parts.push({ kind: 'same', text: change.value });
    }
  });
  flush();
  return parts;
}
