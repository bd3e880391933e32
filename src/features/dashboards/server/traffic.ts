/**
 * Seeded, realistic traffic written straight into the tables (the triggers enqueue it for the
 * rollups like any other write). Used by the rollup tests, `npm run seed:traffic` and the bench.
 * Everything, ids included, derives from the seed, so a run can be repeated exactly.
 */
import { createHash } from 'node:crypto';
import type { Prisma } from '~/generated/prisma/client';
import { ABORTED_ERROR, type Outcome } from '~/features/feedback/metrics';

export function seededRandom(seed: number) {
  let s = seed >>> 0 || 1;
  // mulberry32: small, fast, good enough for simulated traffic.
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A UUID-shaped id derived from the seed and a counter (clientEventId must be a UUID). */
export function seededUuid(...parts: (string | number)[]): string {
  const h = createHash('sha256').update(parts.join(':')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface TrafficTarget {
  featureId: string;
  /** Model version and (optional) arm per variant; each has its own quality and speed. */
  variants: { modelVersionId: string; armId?: string | null; quality: number; speed: number }[];
}

export interface TrafficOptions {
  seed: number;
  suggestions: number;
  /** Generations are spread evenly over [start, start + spanMs). */
  start: Date;
  spanMs: number;
  /** Share of events written in a second phase (retention, late decisions). */
  lateShare?: number;
  /** Share of events also written a second time with a new clientEventId (a client bug). */
  duplicateShare?: number;
}

export interface Traffic {
  generations: Prisma.GenerationCreateManyInput[];
  events: Prisma.FeedbackEventCreateManyInput[];
  late: Prisma.FeedbackEventCreateManyInput[];
}

const TIERS = [
  'primary',
  'primary',
  'primary',
  'primary',
  'fallback_model',
  'ngram',
  'none',
] as const;

function normal(random: () => number) {
  return Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
}

/** Generates (does not write) the rows; see writeTraffic in the scripts and tests. */
export function generateTraffic(targets: TrafficTarget[], options: TrafficOptions): Traffic {
  const random = seededRandom(options.seed);
  const out: Traffic = { generations: [], events: [], late: [] };
  const lateShare = options.lateShare ?? 0.2;
  const duplicateShare = options.duplicateShare ?? 0.02;
  let n = 0;
  const event = (
    generationId: string,
    type: Prisma.FeedbackEventCreateManyInput['type'],
    payload: Prisma.InputJsonObject,
    at: Date,
  ) => {
    const row = {
      clientEventId: seededUuid(options.seed, n++),
      generationId,
      type,
      payload,
      clientTs: at,
    };
    const into = random() < lateShare ? out.late : out.events;
    into.push(row);
    if (random() < duplicateShare)
      into.push({ ...row, clientEventId: seededUuid(options.seed, n++, 'dup') });
  };
  for (let i = 0; i < options.suggestions; i++) {
    const target = targets[Math.floor(random() * targets.length)]!;
    const variant = target.variants[Math.floor(random() * target.variants.length)]!;
    const id = seededUuid(options.seed, 'g', i);
    const createdAt = new Date(
      options.start.getTime() + (i / options.suggestions) * options.spanMs,
    );
    const tier = TIERS[Math.floor(random() * TIERS.length)]!;
    const latencyMs = Math.max(1, Math.exp(Math.log(150 / variant.speed) + 0.6 * normal(random)));
    const failure = random();
    const error = failure < 0.02 ? ABORTED_ERROR : failure < 0.05 ? 'backend timeout' : null;
    const output = tier === 'none' ? '' : ' and the rest of the sentence';
    out.generations.push({
      id,
      featureId: target.featureId,
      modelVersionId: variant.modelVersionId,
      armId: variant.armId ?? null,
      unitId: `unit-${Math.floor(random() * 500)}`,
      tier,
      prompt: 'The quick brown',
      output,
      latencyMs,
      error,
      createdAt,
    });
    if (tier === 'none' || error === ABORTED_ERROR || random() < 0.25) continue;
    const responseToShownMs = Math.max(0, 8 + 6 * normal(random));
    event(id, 'shown', { gateMs: 750, responseToShownMs }, createdAt);
    // Slower answers are taken less: acceptance falls with latency.
    const pAccept = Math.min(0.9, (0.35 * variant.quality) / (1 + latencyMs / 800));
    const r = random();
    const outcome: Outcome =
      r < pAccept * 0.7
        ? 'accepted'
        : r < pAccept
          ? 'accepted_partial'
          : r < pAccept + 0.05
            ? 'typed_through'
            : r < pAccept + 0.2
              ? 'dismissed'
              : 'ignored';
    const suggestedChars = 29;
    const acceptedChars = outcome === 'accepted' ? 29 : Math.floor(5 + random() * 20);
    const shownToDecisionMs = Math.exp(Math.log(1200) + 0.8 * normal(random));
    const decisionAt = new Date(createdAt.getTime() + shownToDecisionMs);
    event(
      id,
      outcome,
      { shownToDecisionMs, suggestedChars, acceptedChars, typedChars: 29 },
      decisionAt,
    );
    // A conflicting second decision now and then (two tabs); the strongest one counts.
    if (random() < 0.03)
      event(id, 'ignored', { shownToDecisionMs: shownToDecisionMs * 2 }, decisionAt);
    if (outcome !== 'accepted' && outcome !== 'accepted_partial') continue;
    let retained = acceptedChars;
    for (const [window, ms] of [
      ['30s', 30_000],
      ['2m', 120_000],
      ['10m', 600_000],
    ] as const) {
      retained = Math.max(0, retained - Math.floor(random() * 6 * (1 / variant.quality)));
      event(
        id,
        'retention',
        {
          window,
          editDistance: acceptedChars > 0 ? 1 - retained / acceptedChars : 0,
          retainedChars: retained,
          acceptedChars,
        },
        new Date(decisionAt.getTime() + ms),
      );
    }
  }
  return out;
}
