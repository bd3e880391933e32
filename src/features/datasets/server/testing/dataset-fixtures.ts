import { randomUUID } from 'node:crypto';
import type { Db } from '~/server/db';

/** A feature whose declaration allows training data (the demo feature). */
export const FIXTURE_FEATURE = 'inline-completion';
export const FIXTURE_START = Date.parse('2001-03-01T00:00:00.000Z');

const PROMPTS = [
  'Thanks for the update on the',
  'Could you send me the report by',
  'Please call me at +1 (555) 010-9999 about the',
  'My email is jane.doe@example.com and the',
  'Let me know if the meeting on',
  'Thanks for the update on the', // duplicate prompt across units
  'x'.repeat(5_000), // beyond the length bound
];

type Outcome = 'accepted' | 'dismissed' | 'ignored' | 'accepted_partial' | 'typed_through';
const OUTCOMES: Outcome[] = [
  'accepted',
  'dismissed',
  'accepted',
  'ignored',
  'accepted_partial',
  'typed_through',
];

/**
 * The same rows (ids, times, text) every call with the same namespace, so two databases seeded with
 * one namespace hold identical data. Returns the model version id that isolates them.
 */
export async function seedFeedback(db: Db, namespace: string, units = 12, perUnit = 7) {
  await db.feature.upsert({
    where: { id: FIXTURE_FEATURE },
    create: { id: FIXTURE_FEATURE, task: 'completion', config: {}, configHash: 'test' },
    update: {},
  });
  const modelVersionId = `mv-${namespace}`;
  await db.modelVersion.create({
    data: { id: modelVersionId, name: `ds-test-${namespace}`, version: '1', backendModel: 'x' },
  });
  const generations = [];
  const events = [];
  let n = 0;
  for (let u = 0; u < units; u++) {
    for (let k = 0; k < perUnit; k++, n++) {
      const id = `${namespace}-g${String(n).padStart(4, '0')}`;
      const createdAt = new Date(FIXTURE_START + n * 60_000);
      // Most prompts are distinct; every fifth repeats a shared one (dedupe, leakage guard).
      const shared = PROMPTS[(u + k) % PROMPTS.length]!;
      const prompt = n % 5 === 0 || shared.length > 100 ? shared : `${shared} item ${n}`;
      const output = ` quarterly numbers ${k % 3 === 0 ? 'today' : 'tomorrow'}.`;
      generations.push({
        id,
        featureId: FIXTURE_FEATURE,
        modelVersionId,
        unitId: `${namespace}-unit-${u}`,
        tier: n % 11 === 10 ? ('ngram' as const) : ('primary' as const),
        prompt,
        output,
        latencyMs: 50,
        createdAt,
      });
      const outcome = OUTCOMES[n % OUTCOMES.length]!;
      const at = (s: number) => new Date(createdAt.getTime() + s * 1000);
      const ev = (type: string, payload: object, s: number, i: number) => ({
        clientEventId: `${id}-e${i}`.padEnd(36, '0').slice(0, 36),
        generationId: id,
        type: type as Outcome | 'shown' | 'retention',
        payload,
        clientTs: at(s),
        serverTs: at(s),
      });
      events.push(ev('shown', { gateMs: 750, responseToShownMs: 10 }, 1, 0));
      const decision: Record<string, unknown> = { shownToDecisionMs: 900 };
      if (outcome === 'accepted_partial') decision.acceptedChars = 10;
      if (outcome === 'dismissed' || outcome === 'ignored')
        decision.typedText = k % 2 === 0 ? ' quarterly plan next week.' : undefined;
      events.push(ev(outcome, decision, 2, 1));
      if (outcome === 'accepted' || outcome === 'accepted_partial') {
        const kept = k % 2 === 0 ? output : ' quarterly numbers soon.';
        events.push(
          ev(
            'retention',
            { window: '30s', editDistance: 0.1, retainedChars: 9, acceptedChars: 10 },
            30,
            2,
          ),
          ev(
            'retention',
            {
              window: '2m',
              editDistance: k % 2 === 0 ? 0 : 0.4,
              retainedChars: 9,
              acceptedChars: 10,
              text: kept,
            },
            120,
            3,
          ),
        );
      }
    }
  }
  await db.generation.createMany({ data: generations });
  await db.feedbackEvent.createMany({ data: events });
  return { modelVersionId, count: generations.length };
}

export const fixtureNamespace = () => randomUUID().slice(0, 8);
