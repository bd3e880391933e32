/**
 * The one definition of each implicit-feedback metric (DESIGN.md "Feedback vocabulary"): how a
 * generation's stored events become facts (`GenerationFacts`, read by generation-facts SQL in the
 * dashboards domain), how facts become additive counts (`contributionOf`), and how counts become
 * the ratios the console shows (`METRICS`). Pure: the browser imports it for the page's glossary.
 *
 * Counts are additive so that hourly rollups merge into any range, and so that a generation's
 * old contribution can be subtracted when late feedback changes it.
 */

/** The gateway's error for a suggestion its caller abandoned (a newer keystroke): not an observation. */
export const ABORTED_ERROR = 'aborted by the caller';

/** Request→shown latency buckets (upper bounds, ms) for "acceptance by latency bucket". */
export const LATENCY_BUCKETS_MS = [100, 200, 400, 800, 1600, Infinity] as const;
export const LATENCY_BUCKET_LABELS = [
  '<100 ms',
  '100–200',
  '200–400',
  '400–800',
  '0.8–1.6 s',
  '≥1.6 s',
];

export function latencyBucketOf(ms: number): number {
  const i = LATENCY_BUCKETS_MS.findIndex((upper) => ms < upper);
  return i < 0 ? LATENCY_BUCKETS_MS.length - 1 : i;
}

/**
 * A shown suggestion's outcome when several decisions were reported for it (a client bug, two
 * tabs): the strongest wins, so each shown suggestion has at most one outcome.
 */
export const OUTCOME_PRECEDENCE = [
  'accepted',
  'accepted_partial',
  'typed_through',
  'dismissed',
  'ignored',
] as const;
export type Outcome = (typeof OUTCOME_PRECEDENCE)[number];

/** What one generation's events say, deduplicated per type (max/min over repeats). */
export interface GenerationFacts {
  latencyMs: number;
  error: string | null;
  /** At least one `shown` event (the visibility gate passed). */
  shown: boolean;
  /** Response→shown (client), the smallest reported. */
  clientMs: number | null;
  outcomes: Record<Outcome, boolean>;
  /** Shown→first decision (the person). */
  personMs: number | null;
  /** Largest acceptedChars (or suggestedChars) of an accept, full or partial. */
  acceptedChars: number | null;
  /** Largest retainedChars reported at each window. */
  retained30s: number | null;
  retained2m: number | null;
  retained10m: number | null;
  /** Largest normalized edit distance reported at 2 min. */
  editDistance2m: number | null;
}

/** Additive counts of one generation, or of a rollup row (sums). */
export interface Counts {
  opportunities: number;
  errors: number;
  shown: number;
  acceptedFull: number;
  acceptedPartial: number;
  typedThrough: number;
  dismissed: number;
  ignored: number;
  acceptedChars: number;
  arc30s: number;
  arc2m: number;
  arc10m: number;
  retained2m: number;
  editDistance2m: number;
  shownByLatency: number[];
  acceptByLatency: number[];
}

export const COUNT_FIELDS = [
  'opportunities',
  'errors',
  'shown',
  'acceptedFull',
  'acceptedPartial',
  'typedThrough',
  'dismissed',
  'ignored',
  'acceptedChars',
  'arc30s',
  'arc2m',
  'arc10m',
  'retained2m',
  'editDistance2m',
] as const satisfies readonly (keyof Counts)[];

export function zeroCounts(): Counts {
  // A literal, not Object.fromEntries(COUNT_FIELDS…): the fold calls this per event, and the
  // literal cut its Node CPU by ~40% (bench:dashboards).
  return {
    opportunities: 0,
    errors: 0,
    shown: 0,
    acceptedFull: 0,
    acceptedPartial: 0,
    typedThrough: 0,
    dismissed: 0,
    ignored: 0,
    acceptedChars: 0,
    arc30s: 0,
    arc2m: 0,
    arc10m: 0,
    retained2m: 0,
    editDistance2m: 0,
    shownByLatency: LATENCY_BUCKETS_MS.map(() => 0),
    acceptByLatency: LATENCY_BUCKETS_MS.map(() => 0),
  };
}

export function addCounts(into: Counts, add: Counts, sign = 1): Counts {
  for (const f of COUNT_FIELDS) into[f] += sign * add[f];
  add.shownByLatency.forEach(
    (v, i) => (into.shownByLatency[i] = (into.shownByLatency[i] ?? 0) + sign * v),
  );
  add.acceptByLatency.forEach(
    (v, i) => (into.acceptByLatency[i] = (into.acceptByLatency[i] ?? 0) + sign * v),
  );
  return into;
}

export function outcomeOf(facts: GenerationFacts): Outcome | null {
  if (!facts.shown) return null;
  return OUTCOME_PRECEDENCE.find((o) => facts.outcomes[o]) ?? null;
}

/** A generation's latency samples: server always, client and person once shown and decided. */
export interface LatencySamples {
  server: number;
  client: number | null;
  person: number | null;
}

/**
 * One generation's counts. Decisions and retention count only for shown suggestions, the
 * denominators of the rates: a decision without `shown` was never seen long enough to judge.
 */
export function contributionOf(facts: GenerationFacts): {
  counts: Counts;
  latency: LatencySamples;
} | null {
  if (facts.error === ABORTED_ERROR) return null;
  const c = zeroCounts();
  c.opportunities = 1;
  c.errors = facts.error === null ? 0 : 1;
  const latency: LatencySamples = { server: facts.latencyMs, client: null, person: null };
  if (!facts.shown) return { counts: c, latency };
  c.shown = 1;
  latency.client = facts.clientMs;
  const outcome = outcomeOf(facts);
  if (outcome !== null) latency.person = facts.personMs;
  const accepted = outcome === 'accepted' || outcome === 'accepted_partial';
  c.acceptedFull = outcome === 'accepted' ? 1 : 0;
  c.acceptedPartial = outcome === 'accepted_partial' ? 1 : 0;
  c.typedThrough = outcome === 'typed_through' ? 1 : 0;
  c.dismissed = outcome === 'dismissed' ? 1 : 0;
  c.ignored = outcome === 'ignored' ? 1 : 0;
  c.acceptedChars = accepted ? (facts.acceptedChars ?? 0) : 0;
  c.arc30s = facts.retained30s ?? 0;
  c.arc2m = facts.retained2m ?? 0;
  c.arc10m = facts.retained10m ?? 0;
  if (facts.editDistance2m !== null) {
    c.retained2m = 1;
    c.editDistance2m = facts.editDistance2m;
  }
  const bucket = latencyBucketOf(facts.latencyMs + (facts.clientMs ?? 0));
  c.shownByLatency[bucket] = 1;
  c.acceptByLatency[bucket] = accepted ? 1 : 0;
  return { counts: c, latency };
}

const ratio = (n: number, d: number) => (d > 0 ? n / d : null);

/** The ratios shown on the page, each defined once over summed counts. */
export const METRICS = {
  shownRate: {
    label: 'Shown rate',
    help: 'Shown (visible past the gate) ÷ opportunities (suggestions requested, abandoned ones excluded).',
    of: (c: Counts) => ratio(c.shown, c.opportunities),
  },
  acceptance: {
    label: 'Acceptance',
    help: 'Accepted whole or word by word ÷ shown. A guardrail, not the goal: it rewards trivial suggestions.',
    of: (c: Counts) => ratio(c.acceptedFull + c.acceptedPartial, c.shown),
  },
  acceptanceFull: {
    label: 'Accepted whole',
    help: 'Accepted whole (Tab) ÷ shown.',
    of: (c: Counts) => ratio(c.acceptedFull, c.shown),
  },
  acceptancePartial: {
    label: 'Accepted partly',
    help: 'Accepted word by word ÷ shown.',
    of: (c: Counts) => ratio(c.acceptedPartial, c.shown),
  },
  typedThrough: {
    label: 'Typed through',
    help: 'The person typed the suggestion by hand (an implicit accept) ÷ shown.',
    of: (c: Counts) => ratio(c.typedThrough, c.shown),
  },
  dismissal: {
    label: 'Dismissed',
    help: 'Explicitly dismissed (Esc, click away) ÷ shown.',
    of: (c: Counts) => ratio(c.dismissed, c.shown),
  },
  ignore: {
    label: 'Ignored',
    help: 'Typed past or superseded ÷ shown.',
    of: (c: Counts) => ratio(c.ignored, c.shown),
  },
  arc30s: {
    label: 'ARC 30 s',
    help: 'Accepted-and-retained characters 30 s after accept, summed over shown suggestions.',
    of: (c: Counts) => c.arc30s,
  },
  arc2m: {
    label: 'ARC 2 min',
    help: 'Accepted-and-retained characters 2 min after accept (the headline metric).',
    of: (c: Counts) => c.arc2m,
  },
  arc10m: {
    label: 'ARC 10 min',
    help: 'Accepted-and-retained characters 10 min after accept.',
    of: (c: Counts) => c.arc10m,
  },
  charsPerOpportunity: {
    label: 'Chars / opportunity',
    help: 'ARC at 2 min ÷ opportunities: rewards long kept suggestions and penalises not answering.',
    of: (c: Counts) => ratio(c.arc2m, c.opportunities),
  },
  editDistance2m: {
    label: 'Edit after accept',
    help: 'Mean normalized edit distance between the accepted text and what remains at 2 min.',
    of: (c: Counts) => ratio(c.editDistance2m, c.retained2m),
  },
  errorRate: {
    label: 'Error rate',
    help: 'Suggestions whose backend call failed (the fallback chain answered) ÷ opportunities.',
    of: (c: Counts) => ratio(c.errors, c.opportunities),
  },
} as const;
export type MetricId = keyof typeof METRICS;
