/**
 * Model-free suggestion by prompt lookup: find the longest run of the last words before the
 * cursor that occurred earlier (in the user's own text first, then in a feature's corpus) and
 * suggest what followed it there. Pure and deterministic: the same inputs give the same text,
 * so it is the fallback tier that always answers and can be replayed exactly.
 */

export interface NgramOptions {
  /** Most words suggested. */
  maxWords: number;
  /** Longest run of context words tried (longer is more specific, shorter finds more). */
  maxContextWords?: number;
  /** Stop after the first `.`, `!` or `?` (inline completion ends at a sentence). */
  stopAtSentenceEnd?: boolean;
}

export interface NgramSuggestion {
  text: string;
  /** Where the continuation was found; null when nothing matched. */
  source: 'user' | 'corpus' | null;
}

const NONE: NgramSuggestion = { text: '', source: null };
const MIN_NEEDLE_CHARS = 3;

// Line breaks are hard boundaries (a suggestion never crosses one); other whitespace runs are
// one space so that matching ignores formatting.
function normalize(text: string): string {
  return text.replace(/[^\S\n]+/g, ' ').replace(/ ?\n[\s]*/g, '\n');
}

// Lower-casing can change a string's length for a few characters (İ); then match as written, so
// positions in the folded copy always equal positions in the original.
function fold(text: string): string {
  const lower = text.toLowerCase();
  return lower.length === text.length ? lower : text;
}

const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}_'’]/u.test(c);

/** A prepared source text (normalize once; a corpus is reused across requests). */
export interface NgramSource {
  text: string;
  folded: string;
}

export function prepareSource(text: string): NgramSource {
  const normalized = normalize(text);
  return { text: normalized, folded: fold(normalized) };
}

const corpusCache = new Map<string, NgramSource>();
/** A corpus prepared once per process (corpora are declared in code and never change). */
export function preparedCorpus(corpus: string): NgramSource {
  let source = corpusCache.get(corpus);
  if (!source) {
    source = prepareSource(corpus);
    corpusCache.set(corpus, source);
  }
  return source;
}

/** The continuation after `at` in `text`, cut at a line break, the word limit or a sentence end. */
function continuation(text: string, at: number, midWord: boolean, options: NgramOptions): string {
  const rest = text.slice(at, at + options.maxWords * 24);
  const line = rest.split('\n', 1)[0] ?? '';
  let out = '';
  let words = 0;
  for (const m of line.matchAll(/\s*\S+/g)) {
    const piece = m[0];
    // A piece that finishes the word under the cursor is not a new word.
    if (!(midWord && out === '' && !/^\s/.test(piece))) words++;
    if (words > options.maxWords) break;
    out += piece;
    if (options.stopAtSentenceEnd) {
      const end = /[.!?](?=["'’”)\]]*$)/.exec(piece);
      if (end && !/^\s*(Mr|Mrs|Ms|Dr|St)\.$/.test(piece)) break;
    }
  }
  return out.replace(/\s+$/, '');
}

/** Finds `needle` starting at a word boundary: the last occurrence (most recent) or the first. */
function findAt(source: NgramSource, needle: string, last: boolean, end = Infinity): number {
  let from = last ? Math.min(end, source.folded.length) - needle.length : 0;
  while (from >= 0 && from <= source.folded.length) {
    const i = last ? source.folded.lastIndexOf(needle, from) : source.folded.indexOf(needle, from);
    if (i < 0) return -1;
    if (i + needle.length <= end && (i === 0 || !isWordChar(source.folded[i - 1]))) return i;
    from = last ? i - 1 : i + 1;
  }
  return -1;
}

/**
 * Suggests a continuation of `textBefore`. `textAfter` (the user's text past the cursor) and
 * `corpus` are searched too. Returns an empty text when nothing useful matched.
 */
export function suggestNgram(
  input: { textBefore: string; textAfter?: string; corpus?: NgramSource | null },
  options: NgramOptions,
): NgramSuggestion {
  if (options.maxWords <= 0) return NONE;
  const before = normalize(input.textBefore);
  const line = before.slice(before.lastIndexOf('\n') + 1);
  const words = line.split(' ').filter(Boolean);
  const trailingSpace = line.endsWith(' ');
  if (words.length === 0) return NONE;
  const own = { text: before, folded: fold(before) };
  const after = input.textAfter ? prepareSource(input.textAfter) : null;
  const maxContext = Math.min(options.maxContextWords ?? 6, words.length);

  for (let k = maxContext; k >= 1; k--) {
    const needle = fold(words.slice(-k).join(' ') + (trailingSpace ? ' ' : ''));
    if (needle.trim().length < MIN_NEEDLE_CHARS) continue;
    // The user's own earlier text wins (their names and phrasing), most recent occurrence first;
    // the occurrence at the cursor itself is excluded by the search end.
    const candidates: [NgramSource | null, boolean, number, 'user' | 'corpus'][] = [
      [own, true, own.folded.length - 1, 'user'],
      [after, false, Infinity, 'user'],
      [input.corpus ?? null, false, Infinity, 'corpus'],
    ];
    for (const [source, last, end, kind] of candidates) {
      if (!source) continue;
      const i = findAt(source, needle, last, end);
      if (i < 0) continue;
      const text = continuation(source.text, i + needle.length, !trailingSpace, options);
      if (text.trim() !== '') return { text, source: kind };
    }
  }
  return NONE;
}
