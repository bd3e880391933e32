/**
 * The simulated writers without the product around them: each document is written by the same
 * behaviour model (behaviour.ts) against a model's suggestions taken straight from a backend, with
 * a fixed latency instead of the machine's, so two models are compared on exactly the same
 * opportunities in minutes and the figures do not move with load. What it measures is what the
 * online experiment measures (acceptance among shown, kept characters per opportunity); the
 * experiment remains the judge, this is for comparing training recipes before a demo run.
 */
import mt19937 from '@stdlib/random-base-mt19937';
import { retainedChars } from '~/lib/edit-distance';
import {
  experiencedLatencyMs,
  patienceMs,
  pausesAt,
  react,
  type BehaviourParams,
} from './behaviour';
import type { Coordinates } from './random';
import { documentToWrite, nextWordEnd, type Document } from './writer';

/** One document written against one model. */
export interface DocumentTally {
  documentId: string;
  /** Requests whose answer came in time (opportunities). */
  requests: number;
  answered: number;
  shown: number;
  /** Accepted whole or in part, or typed through (among shown). */
  taken: number;
  keptChars: number;
}

/** The model's answer to a text before the cursor, post-processed as the gateway does. */
export type Suggest = (textBefore: string) => Promise<string>;

/**
 * Writes `doc` as writer `writerId` would (same pauses, same reactions), with every answer taking
 * `latencyMs`. Pure given `suggest`: the same seed, document and answers give the same tally.
 */
export async function simulateDocument(o: {
  seed: string;
  writerId: string;
  doc: Document;
  params: BehaviourParams;
  latencyMs: number;
  suggest: Suggest;
  /**
   * Each shown suggestion: the text before the cursor, the suggestion, and what of it the writer
   * kept (null when not taken), as a dataset of unpaired preferences would hold it.
   */
  onShown?: (textBefore: string, suggestion: string, kept: string | null) => void;
}): Promise<DocumentTally> {
  const { params } = o;
  const text = documentToWrite(o.doc.text, params.maxDocumentChars);
  const tally: DocumentTally = {
    documentId: o.doc.id,
    requests: 0,
    answered: 0,
    shown: 0,
    taken: 0,
    keptChars: 0,
  };
  let p = 0;
  for (let step = 0; p < text.length; step++) {
    p = nextWordEnd(text, p);
    if (p >= text.length) break;
    const at: Coordinates = { seed: o.seed, writerId: o.writerId, step };
    const { pause, pauseMs } = pausesAt(params, at, text.slice(0, p));
    const latencyMs = experiencedLatencyMs(params, o.latencyMs);
    if (!pause || patienceMs(params, pauseMs) < latencyMs) continue;
    tally.requests++;
    const suggestion = await o.suggest(text.slice(0, p));
    if (!suggestion) continue;
    tally.answered++;
    const reaction = react(params, {
      at,
      suggestion,
      intended: text.slice(p),
      latencyMs,
      pauseMs,
    });
    if (!reaction.shown) continue;
    tally.shown++;
    if (reaction.outcome !== 'dismissed' && reaction.outcome !== 'ignored') tally.taken++;
    if (reaction.accepted)
      tally.keptChars += retainedChars(reaction.accepted.text, reaction.accepted.kept);
    const took = reaction.outcome !== 'dismissed' && reaction.outcome !== 'ignored';
    o.onShown?.(
      text.slice(0, p),
      suggestion,
      took ? (reaction.accepted?.kept ?? suggestion) : null,
    );
    p += reaction.consumed;
  }
  return tally;
}

export interface PairedFigure {
  a: number;
  b: number;
  /** b − a with a 95% percentile-bootstrap interval over documents (resampled in pairs). */
  delta: number;
  ci95: [number, number];
}

export interface Comparison {
  documents: number;
  acceptance: PairedFigure;
  keptCharsPerOpportunity: PairedFigure;
}

const ratio = (
  tallies: readonly DocumentTally[],
  idx: readonly number[],
  num: keyof DocumentTally,
  den: keyof DocumentTally,
) => {
  let n = 0;
  let d = 0;
  for (const i of idx) {
    n += tallies[i]![num] as number;
    d += tallies[i]![den] as number;
  }
  return d > 0 ? n / d : 0;
};

/**
 * Model b against model a on the same documents (tallies in the same order): ratios over all
 * documents, and the difference's interval from resampling documents (a document's opportunities
 * are not independent of each other, so documents are the unit).
 */
export function compare(
  a: readonly DocumentTally[],
  b: readonly DocumentTally[],
  seed = 1,
  resamples = 2000,
): Comparison {
  if (a.length !== b.length) throw new Error('compare: the tallies must cover the same documents');
  const all = a.map((_, i) => i);
  const rng = mt19937.factory({ seed });
  const figure = (num: keyof DocumentTally, den: keyof DocumentTally): PairedFigure => {
    const [ra, rb] = [ratio(a, all, num, den), ratio(b, all, num, den)];
    const deltas = new Float64Array(resamples);
    for (let r = 0; r < resamples; r++) {
      const idx = all.map(() => Math.floor((rng() / 4294967296) * all.length));
      deltas[r] = ratio(b, idx, num, den) - ratio(a, idx, num, den);
    }
    deltas.sort();
    const at = (q: number) => deltas[Math.min(resamples - 1, Math.floor(q * resamples))]!;
    return { a: ra, b: rb, delta: rb - ra, ci95: [at(0.025), at(0.975)] };
  };
  return {
    documents: a.length,
    acceptance: figure('taken', 'shown'),
    keptCharsPerOpportunity: figure('keptChars', 'requests'),
  };
}
