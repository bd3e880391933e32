/**
 * What "a user" means in the simulation: one documented set of parameters and the pure functions
 * that turn a suggestion into a reaction. Change a number here and every simulated writer changes;
 * `version` goes into each run's summary so figures from different models of a user are never mixed.
 *
 * A writer means to write a known text (a held-out document). They type it word by word at
 * `msPerChar`; at some word boundaries they pause long enough for the editor's debounce to ask
 * for a suggestion. A suggestion that arrives after the pause ended is never painted (the next
 * keystroke aborts the request, as in the browser). A painted one is read and then:
 *   - exactly what they meant      → Tab (accepted), or typed by hand (typed_through), sometimes
 *                                    followed by deleting and retyping its last word (retention < 1);
 *   - its first words are right     → accepted word by word up to where it goes wrong (accepted_partial);
 *   - close to what they meant     → sometimes accepted whole and the differing words fixed at once;
 *   - wrong                         → Esc (dismissed) or typed past (ignored).
 * Slower answers are more often ignored even when right (attention has moved on). Answers within
 * `instantMs` all look alike to a person (there is no perceptible difference between 20 and
 * 200 ms): they are experienced as instant, so whether one is painted in time and how the writer
 * reacts to it depend only on (seed, writer, step) and its text, never on how busy the machine
 * was. On a machine that answers within `instantMs` a phase is therefore reproducible; only
 * slower answers (and the gateway's own budget, a product setting) let real time in. A decision made
 * before the visibility gate on something not taken is never counted as shown (no event at all),
 * exactly as the browser's SuggestionLifecycle does. The document always ends as the intended
 * text: fixes restore it, so what a writer keeps is what they meant.
 */
import { DEFAULT_VISIBILITY_GATE_MS } from '~/features/feedback/events';
import { normalizedEditDistance } from '~/lib/edit-distance';
import { draw, logNormal, type Coordinates } from './random';

export interface BehaviourParams {
  /** Bumped whenever a parameter or rule changes. */
  version: number;
  /** Typing speed: 180 ms a character is about 65 words a minute. */
  msPerChar: number;
  /** Chance that a word boundary inside a sentence has a pause long enough for a request. */
  pauseAtWord: number;
  /** The same after a sentence end or line break (people stop to think there). */
  pauseAtSentenceEnd: number;
  /** How long such a pause lasts: the writer's patience for a suggestion. */
  pause: { medianMs: number; sigma: number; minMs: number; maxMs: number };
  /** The editor waits this long after the last keystroke before asking (inline-completion.ts). */
  debounceMs: number;
  /** Response arrived → ghost text painted (one frame). */
  paintMs: number;
  /** Time to read a painted suggestion and decide: median base + per character. */
  read: { baseMs: number; perCharMs: number; sigma: number };
  /** A suggestion is counted as shown after this long on screen (the product's default gate). */
  gateMs: number;
  /** Exactly right: Tab with this chance, type it by hand with `typeThroughExact`, else ignore. */
  acceptExact: number;
  typeThroughExact: number;
  /** After an exact accept: delete and retype the last accepted word (a change of mind). */
  editAfterAccept: number;
  /** First words right: accept them word by word (at least `minChars`) with this chance. */
  partial: { probability: number; minChars: number };
  /** First word right and the rest within `maxDistance`: accept whole and fix the rest at once. */
  nearMatch: { probability: number; maxDistance: number };
  /** Wrong: Esc with this chance, otherwise typed past. */
  dismissWrong: number;
  /**
   * Answers at most this late are experienced as instant (latency 0): painted within any pause,
   * never ignored for slowness. Reproducibility: see the header.
   */
  instantMs: number;
  /** Slowness: beyond `comfortableMs`, each further second adds `perSecond` chance of ignoring. */
  slowIgnore: { comfortableMs: number; perSecond: number; max: number };
  /** Characters typed instead are reported for 10 s after a decision (the lifecycle's window). */
  typedInsteadWindowMs: number;
  typedInsteadMarginChars: number;
  /** Each document is written up to this many characters (to the end of a sentence). */
  maxDocumentChars: number;
}

export const WRITER_BEHAVIOUR: BehaviourParams = {
  version: 2,
  msPerChar: 180,
  pauseAtWord: 0.35,
  pauseAtSentenceEnd: 0.9,
  pause: { medianMs: 900, sigma: 0.6, minMs: 350, maxMs: 8_000 },
  debounceMs: 150,
  paintMs: 16,
  read: { baseMs: 450, perCharMs: 18, sigma: 0.45 },
  gateMs: DEFAULT_VISIBILITY_GATE_MS,
  acceptExact: 0.85,
  typeThroughExact: 0.1,
  editAfterAccept: 0.08,
  partial: { probability: 0.75, minChars: 4 },
  nearMatch: { probability: 0.4, maxDistance: 0.35 },
  dismissWrong: 0.2,
  instantMs: 250,
  slowIgnore: { comfortableMs: 250, perSecond: 0.6, max: 0.8 },
  typedInsteadWindowMs: 10_000,
  typedInsteadMarginChars: 20,
  maxDocumentChars: 700,
};

export type Outcome = 'accepted' | 'accepted_partial' | 'typed_through' | 'dismissed' | 'ignored';

export interface Reaction {
  outcome: Outcome;
  /** Painted → decision (the person's time). */
  decisionMs: number;
  /** Whether the visibility gate counted it as shown (a take always is). */
  shown: boolean;
  /** Characters of the intended text this decision wrote (0 when the writer types on by hand). */
  consumed: number;
  suggestedChars: number;
  acceptedChars?: number;
  typedChars?: number;
  /** After an accept: the text taken, and what of it is left once the writer's edits are done. */
  accepted?: { text: string; kept: string };
  /** After a dismiss or ignore: what the writer typed at the suggestion's place instead. */
  typedText?: string;
}

/** The words of a text with their leading whitespace (" the", " cat"), so prefixes rejoin exactly. */
export function words(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

/** Characters of `suggestion`'s leading whole words that are exactly what the writer meant. */
export function matchingPrefixChars(suggestion: string, intended: string): number {
  let chars = 0;
  for (const word of words(suggestion)) {
    // A whole word: what the writer means continues with no more letters or digits after it.
    const after = intended[chars + word.length];
    if (!intended.startsWith(word, chars) || (after !== undefined && /[\p{L}\p{N}]/u.test(after)))
      break;
    chars += word.length;
  }
  return chars;
}

/** Whether a word boundary (position `at` of the text, after a word) gets a request-sized pause. */
export function pausesAt(
  params: BehaviourParams,
  at: Coordinates,
  textBefore: string,
): { pause: boolean; pauseMs: number } {
  const sentenceEnd = /[.!?:;]\s*$|\n\s*$/.test(textBefore);
  const chance = sentenceEnd ? params.pauseAtSentenceEnd : params.pauseAtWord;
  return {
    pause: draw(at, 'pause') < chance,
    pauseMs: logNormal(at, 'pause-length', params.pause),
  };
}

/**
 * The request is aborted by the next keystroke unless the answer is painted within the pause:
 * how long the client waits for an answer before giving up (0: it never asks).
 */
export function patienceMs(params: BehaviourParams, pauseMs: number): number {
  return Math.max(0, pauseMs - params.debounceMs - params.paintMs);
}

/** The latency a writer experiences: 0 for an answer within `instantMs` (see the header). */
export function experiencedLatencyMs(params: BehaviourParams, latencyMs: number): number {
  return latencyMs <= params.instantMs ? 0 : latencyMs;
}

/**
 * How long the client waits before the writer's next keystroke aborts the request: the patience,
 * but never less than `instantMs` (an answer that fast is judged as instant, after it came).
 */
export function abortAfterMs(params: BehaviourParams, patience: number): number {
  return Math.max(patience, params.instantMs);
}

/** What the writer does with a painted suggestion. Pure: same inputs, same reaction. */
export function react(
  params: BehaviourParams,
  input: {
    at: Coordinates;
    suggestion: string;
    /** The rest of what the writer means to write, from the cursor. */
    intended: string;
    /** Request → response, as the writer experienced it. */
    latencyMs: number;
    /** The writer's pause at this point (the patience the answer had to fit in). */
    pauseMs: number;
  },
): Reaction {
  const { at, suggestion, intended, latencyMs, pauseMs } = input;
  const u = (purpose: string) => draw(at, purpose);
  const suggestedChars = suggestion.length;
  const reading = logNormal(at, 'read', {
    medianMs: params.read.baseMs + params.read.perCharMs * suggestedChars,
    sigma: params.read.sigma,
    minMs: 120,
  });
  // Typing past: the next keystroke comes when the pause ends.
  const typedPastMs = Math.max(0, pauseMs - params.debounceMs - latencyMs - params.paintMs);
  const typedInstead = () =>
    intended.slice(
      0,
      Math.min(
        suggestedChars + params.typedInsteadMarginChars,
        Math.floor(params.typedInsteadWindowMs / params.msPerChar),
      ),
    );
  const ignored = (): Reaction => ({
    outcome: 'ignored',
    decisionMs: typedPastMs,
    shown: typedPastMs >= params.gateMs,
    consumed: 0,
    suggestedChars,
    typedText: typedInstead(),
  });
  const dismissed = (): Reaction => ({
    outcome: 'dismissed',
    decisionMs: reading,
    shown: reading >= params.gateMs,
    consumed: 0,
    suggestedChars,
    typedText: typedInstead(),
  });
  const take = (outcome: Outcome, text: string, kept: string, decisionMs: number): Reaction => ({
    outcome,
    decisionMs,
    shown: true,
    consumed: kept.length,
    suggestedChars,
    acceptedChars: outcome === 'typed_through' ? undefined : text.length,
    typedChars: outcome === 'typed_through' ? text.length : undefined,
    accepted: outcome === 'typed_through' ? undefined : { text, kept },
  });

  if (!suggestion.trim()) return ignored();
  const slowness = Math.min(
    params.slowIgnore.max,
    (Math.max(0, latencyMs - params.slowIgnore.comfortableMs) / 1000) * params.slowIgnore.perSecond,
  );
  if (u('slow') < slowness) return ignored();

  const exact = intended.startsWith(suggestion);
  if (exact) {
    const choice = u('exact');
    if (choice < params.acceptExact) {
      const all = words(suggestion);
      const edit = all.length > 1 && u('edit-after-accept') < params.editAfterAccept;
      // Deleting and retyping the last word: the retyped word lies outside the accepted span.
      const kept = edit ? all.slice(0, -1).join('') : suggestion;
      return { ...take('accepted', suggestion, kept, reading), consumed: suggestion.length };
    }
    if (choice < params.acceptExact + params.typeThroughExact)
      return take(
        'typed_through',
        suggestion,
        suggestion,
        reading + suggestedChars * params.msPerChar,
      );
    return ignored();
  }

  const prefix = matchingPrefixChars(suggestion, intended);
  if (prefix > 0) {
    const near =
      normalizedEditDistance(suggestion, intended.slice(0, suggestedChars)) <=
      params.nearMatch.maxDistance;
    if (near && u('near') < params.nearMatch.probability) {
      // Accepted whole, then the differing words retyped as meant (same number of words).
      const kept = words(intended).slice(0, words(suggestion).length).join('');
      return take('accepted', suggestion, kept, reading);
    }
    if (prefix >= params.partial.minChars && u('partial') < params.partial.probability) {
      const text = suggestion.slice(0, prefix);
      return take('accepted_partial', text, text, reading);
    }
  }
  return u('dismiss') < params.dismissWrong ? dismissed() : ignored();
}
