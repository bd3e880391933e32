/**
 * A population of simulated writers: who they are (unit ids from the seed), which documents each
 * one means to write (a seeded deal of the held-out documents), and a phase of writing, all of
 * them at once, until a deadline. Plus the client-side figures of a phase, per model version.
 */
import { WRITER_BEHAVIOUR, type BehaviourParams } from './behaviour';
import { seededOrder } from './random';
import type { WriterTransport } from './transport';
import { emptyTally, Slots, Writer, type ArmTally, type Document, type Tally } from './writer';

export interface PopulationOptions {
  seed: string;
  writers: number;
  documents: readonly Document[];
  transport: WriterTransport;
  featureId: string;
  captureText: boolean;
  params?: BehaviourParams;
  /** Prefix of the unit ids (the experiment unit and the owner of the feedback). */
  unitPrefix?: string;
  /**
   * Prefix of the writer ids ('w'), which name the person in every choice they make and in
   * their feedback event ids (unique across the product): another population of the same seed
   * needs its own.
   */
  writerPrefix?: string;
  /** Suggestion requests in flight at once across the population (default: one per writer). */
  maxInFlight?: number;
}

/** Each writer's share of `documents`, dealt in a seeded order (writer i gets every n-th). */
export function deal(documents: readonly Document[], seed: string, writers: number): Document[][] {
  const dealt = seededOrder(documents, seed, (d) => d.id);
  return Array.from({ length: writers }, (_, i) => dealt.filter((_, j) => j % writers === i));
}

/**
 * Every document for every writer, each writer starting at its own place in one seeded order
 * (writer i at i/n of the way round). Over many texts each writer's mix of easy and hard
 * documents is then about the same, so the units of an experiment differ by the arm that served
 * them far more than by what they happened to write.
 */
export function rotations(
  documents: readonly Document[],
  seed: string,
  writers: number,
): Document[][] {
  const ordered = seededOrder(documents, seed, (d) => d.id);
  return Array.from({ length: writers }, (_, i) => {
    const start = Math.floor((i * ordered.length) / writers);
    return [...ordered.slice(start), ...ordered.slice(0, start)];
  });
}

export function makePopulation(o: PopulationOptions): Writer[] {
  const params = o.params ?? WRITER_BEHAVIOUR;
  const shares = deal(o.documents, o.seed, o.writers);
  const slots = o.maxInFlight ? new Slots(o.maxInFlight) : undefined;
  return Array.from({ length: o.writers }, (_, i) => {
    const writerId = `${o.writerPrefix ?? 'w'}${String(i).padStart(3, '0')}`;
    return new Writer({
      seed: o.seed,
      writerId,
      unitId: `${o.unitPrefix ?? 'sim'}-${o.seed}-${writerId}`,
      featureId: o.featureId,
      documents: shares[i]!,
      params,
      transport: o.transport,
      captureText: o.captureText,
      slots,
    });
  });
}

/** All writers write at once until `deadline` (epoch ms); resolves when every one has stopped. */
export async function writePhase(
  writers: readonly Writer[],
  options: {
    deadline: number;
    /** Another reason to stop (checked between words). */
    stop?: () => boolean;
    /** Each writer stops after this many documents ('share': each of its own once). */
    documentsPerWriter?: number | 'share';
    /**
     * Writers take turns (one after another) instead of writing at once: the order in which the
     * app stores their generations is then a function of the seed, and so is a dataset version
     * built from them (its rows follow the generations' stored order).
     */
    inTurn?: boolean;
    onTick?: (tally: Tally) => void;
    tickMs?: number;
    /** Adds to this tally (a phase in parts) instead of a new one. */
    tally?: Tally;
  },
): Promise<Tally> {
  const tally = options.tally ?? emptyTally();
  const stop = () => Date.now() >= options.deadline || (options.stop?.() ?? false);
  const timer = options.onTick
    ? setInterval(() => options.onTick?.(tally), options.tickMs ?? 5000)
    : undefined;
  try {
    for (const w of writers) w.state = 'typing';
    if (options.inTurn)
      for (const w of writers) await w.writeUntil(stop, tally, options.documentsPerWriter);
    else
      await Promise.all(writers.map((w) => w.writeUntil(stop, tally, options.documentsPerWriter)));
  } finally {
    clearInterval(timer);
  }
  return tally;
}

export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export interface ArmFigures {
  requests: number;
  shown: number;
  taken: number;
  /** Accepted, partly accepted or typed through, among shown. */
  acceptanceRate: number | null;
  /** Characters accepted and kept, per request (opportunity). */
  keptCharsPerOpportunity: number | null;
  primaryShare: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
}

export function armFigures(a: ArmTally): ArmFigures {
  const taken = a.outcomes.accepted + a.outcomes.accepted_partial + a.outcomes.typed_through;
  const answered = a.requests;
  return {
    requests: a.requests,
    shown: a.shown,
    taken,
    acceptanceRate: a.shown ? taken / a.shown : null,
    keptCharsPerOpportunity: a.requests ? a.keptChars / a.requests : null,
    primaryShare: answered ? (a.tiers.primary ?? 0) / answered : null,
    p50Ms: quantile(a.latenciesMs, 0.5),
    p95Ms: quantile(a.latenciesMs, 0.95),
  };
}

/**
 * The held-out documents in two disjoint halves for `seed`: the first is written on v1 (its
 * feedback becomes the dataset v2 trains on), the second afterwards, so the experiment judges v2
 * on texts it never trained on. The demo and the offline harness use the same halves.
 */
export function documentHalves(
  documents: readonly Document[],
  seed: string,
): { first: Document[]; later: Document[] } {
  const ordered = seededOrder(documents, `${seed}:halves`, (d) => d.id);
  const half = Math.ceil(ordered.length / 2);
  return { first: ordered.slice(0, half), later: ordered.slice(half) };
}
