import type { Db } from '~/server/db';

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
  return rows.map((g) => ({
    id: g.id,
    featureId: g.featureId,
    tier: g.tier,
    modelVersion: g.modelVersion ? `${g.modelVersion.name}/${g.modelVersion.version}` : null,
    prompt: g.prompt,
    output: g.output,
    latencyMs: g.latencyMs,
    ttftMs: g.ttftMs,
    error: g.error,
    createdAt: g.createdAt,
    events: g.feedback,
  }));
}
