import type { Db } from '~/server/db';
import { DEFAULT_VISIBILITY_GATE_MS } from '~/features/feedback/events';
import { ABORTED_ERROR, OUTCOME_PRECEDENCE, type Outcome } from '~/features/feedback/metrics';
import { modelVersionLabel } from '~/features/models/model-label';

/** How long a painted suggestion may still be on screen, short of its gate, with nothing reported. */
const STILL_OPEN_MS = 30_000;

const OUTCOME_WORDS: Record<Outcome, string> = {
  accepted: 'accepted',
  accepted_partial: 'accepted in part',
  typed_through: 'typed through',
  dismissed: 'dismissed',
  ignored: 'ignored',
};

export interface OutcomeInput {
  tier: string;
  output: string;
  error: string | null;
  createdAt: Date;
  events: { type: string; payload: unknown }[];
}

/**
 * What happened to one suggestion, in words, so that no row is a bare "—". A suggestion counts as
 * shown only after the visibility gate; the client reports nothing for one that went (dismissed,
 * typed past, superseded) before it, so its absence is said with the gate it fell short of.
 */
export function describeOutcome(g: OutcomeInput, now = new Date()): string {
  if (g.error === ABORTED_ERROR) return 'abandoned: a newer keystroke superseded the request';
  if (g.tier === 'none' || g.output === '')
    return g.error ? `no suggestion (${g.error})` : 'no suggestion: every tier came back empty';
  const shown = g.events.find((e) => e.type === 'shown');
  const gateOf = (payload: unknown) => {
    const gate = (payload as { gateMs?: unknown } | null)?.gateMs;
    return typeof gate === 'number' ? gate : DEFAULT_VISIBILITY_GATE_MS;
  };
  const gate = gateOf(shown?.payload);
  const decisions = g.events
    .map((e) => e.type)
    .filter((t): t is Outcome => (OUTCOME_PRECEDENCE as readonly string[]).includes(t));
  if (!shown) {
    const decision = decisions[0];
    if (decision)
      return `${OUTCOME_WORDS[decision]} before it was shown (visible under the ${gate} ms gate; not counted)`;
    if (now.getTime() - g.createdAt.getTime() < STILL_OPEN_MS)
      return `not shown yet (counts once visible for ${gate} ms)`;
    return `dismissed or typed past before it was shown (visible under the ${gate} ms gate; not counted)`;
  }
  const retained = g.events.filter((e) => e.type === 'retention').length;
  const steps = [
    `shown (≥ ${gate} ms)`,
    ...decisions.map((d) => OUTCOME_WORDS[d]),
    ...(retained > 0 ? [`${retained} retention check${retained === 1 ? '' : 's'}`] : []),
  ];
  return decisions.length === 0 ? `${steps.join(' → ')}, no decision yet` : steps.join(' → ');
}

/** The latest suggestions with what happened to them, newest first (the console's live view). */
export async function recentGenerations(db: Db, input: { featureId?: string; limit: number }) {
  const rows = await db.generation.findMany({
    where: input.featureId ? { featureId: input.featureId } : undefined,
    orderBy: { createdAt: 'desc' },
    take: input.limit,
    include: {
      modelVersion: { select: { name: true, version: true } },
      feedback: {
        // Ingest stores a batch in id order, so events stamped in the same millisecond (a
        // shown flushed with its decision) are put in lifecycle order: the enum's order.
        orderBy: [{ clientTs: 'asc' }, { type: 'asc' }],
        select: { type: true, payload: true, clientTs: true },
      },
    },
  });
  const now = new Date();
  return rows.map((g) => ({
    id: g.id,
    featureId: g.featureId,
    tier: g.tier,
    modelVersion: g.modelVersion ? modelVersionLabel(g.modelVersion) : null,
    prompt: g.prompt,
    output: g.output,
    latencyMs: g.latencyMs,
    ttftMs: g.ttftMs,
    error: g.error,
    createdAt: g.createdAt,
    events: g.feedback,
    outcome: describeOutcome({ ...g, events: g.feedback }, now),
  }));
}
