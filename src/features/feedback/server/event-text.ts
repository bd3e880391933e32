/**
 * User-written text in feedback payloads (`text` of a retention event, `typedText` of a dismiss or
 * ignore) is training data: it is kept only for features whose `trainingData` is on, and redacted
 * by the feature's policy first, like prompts. The browser sends it only where allowed; this is
 * the enforcement, so a stale or hostile client cannot store text a feature does not allow.
 */
import { FEATURES, type FeatureDeclaration } from '~/features/suggestions/server/feature-registry';
import { redact } from '~/features/suggestions/server/redaction';
import type { Db } from '~/server/db';
import type { FeedbackEvent } from '../events';

export const TEXT_FIELDS = ['text', 'typedText'] as const;

const hasText = (event: FeedbackEvent) =>
  TEXT_FIELDS.some((f) => typeof (event.payload as Record<string, unknown>)[f] === 'string');

/** Returns the events with their text redacted, or removed where the feature does not allow it. */
export async function redactEventTexts(db: Db, events: FeedbackEvent[]): Promise<FeedbackEvent[]> {
  const withText = events.filter(hasText);
  if (withText.length === 0) return events; // the common case costs no query
  const generations = await db.generation.findMany({
    where: { id: { in: [...new Set(withText.map((e) => e.generationId))] } },
    select: { id: true, featureId: true },
  });
  const featureOf = new Map(generations.map((g) => [g.id, g.featureId]));
  return events.map((event) => {
    if (!hasText(event)) return event;
    const feature = (FEATURES as Record<string, FeatureDeclaration>)[
      featureOf.get(event.generationId) ?? ''
    ];
    const payload: Record<string, unknown> = { ...event.payload };
    for (const field of TEXT_FIELDS) {
      const value = payload[field];
      if (typeof value !== 'string') continue;
      if (feature?.trainingData !== true) delete payload[field];
      else payload[field] = redact(feature.redaction, { prompt: '', output: value }).output;
    }
    return { ...event, payload } as FeedbackEvent;
  });
}
