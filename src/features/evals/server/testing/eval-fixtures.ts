/**
 * Logged traffic for eval tests: generations of the inline-completion feature in a window of their
 * own (so a suite's sample holds only its rows), each with feedback naming what the user kept.
 * Half the kept texts are the candidate's own greedy answer, so their exact match is known.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { Db } from '~/server/db';

export const EVAL_FEATURE = 'inline-completion';

export const PROMPTS = [
  'Thank you for your',
  'Could you send me the report by',
  'I will be out of the office until',
  'Let me know if you have any',
  'The meeting has been moved to',
  'Please find attached the',
  'We are happy to announce that',
  'I hope this email finds you',
] as const;

/** Kept texts of the examples whose user wrote something else than the model would. */
const OTHER_KEPT = [
  ' kind words about the garden party.',
  ' Thursday afternoon at the latest.',
  ' the twelfth of next month.',
  ' questions about the invoice.',
];

export interface SeededTraffic {
  from: string;
  to: string;
  /** prompt → kept text */
  kept: Map<string, string>;
  /** Prompts whose kept text is the candidate's own answer. */
  selfPrompts: string[];
}

/**
 * Seeds one generation per prompt in a fresh hour of the past. `answers` are the candidate's
 * greedy answers per prompt (asked by the test straight from the worker).
 */
export async function seedEvalTraffic(
  db: Db,
  answers: ReadonlyMap<string, string>,
): Promise<SeededTraffic> {
  await db.feature.upsert({
    where: { id: EVAL_FEATURE },
    create: { id: EVAL_FEATURE, task: 'completion', config: {}, configHash: 'test' },
    update: {},
  });
  const ns = randomUUID().slice(0, 8);
  // An hour between 1990 and 2018 that no other suite of this run uses (a fresh one each time).
  const start = Date.UTC(1990, 0, 1) + randomInt(0, 245_000) * 3_600_000;
  const kept = new Map<string, string>();
  const selfPrompts: string[] = [];
  const generations = [];
  const events = [];
  for (const [i, prompt] of PROMPTS.entries()) {
    const answer = answers.get(prompt) ?? '';
    const self = i % 2 === 0;
    const text = self ? answer : OTHER_KEPT[i >> 1]!;
    kept.set(prompt, text);
    if (self) selfPrompts.push(prompt);
    const id = `${ns}-eval-${i}`;
    const createdAt = new Date(start + i * 60_000);
    const at = (s: number) => new Date(createdAt.getTime() + s * 1000);
    generations.push({
      id,
      featureId: EVAL_FEATURE,
      // One unit each, with fixed ids: the split hashes unit ids, so random ones left the eval split
      // empty now and then; these put rows in both splits for the tests' seeds.
      unitId: `eval-unit-${i}`,
      tier: 'primary' as const,
      prompt,
      output: answer,
      latencyMs: 40,
      createdAt,
    });
    const event = (type: string, payload: object, s: number) => ({
      clientEventId: randomUUID(),
      generationId: id,
      type: type as 'accepted',
      payload,
      clientTs: at(s),
      serverTs: at(s),
    });
    events.push(event('shown', { gateMs: 750, responseToShownMs: 8 }, 1));
    if (i % 4 === 3) {
      // Dismissed, and the user typed their own words instead.
      events.push(event('dismissed', { shownToDecisionMs: 700, typedText: text }, 2));
    } else {
      events.push(event('accepted', { shownToDecisionMs: 600 }, 2));
      events.push(
        event(
          'retention',
          { window: '2m', editDistance: self ? 0 : 0.8, text, acceptedChars: answer.length },
          120,
        ),
      );
    }
  }
  // A generation with no feedback is no example.
  generations.push({
    id: `${ns}-eval-unseen`,
    featureId: EVAL_FEATURE,
    unitId: 'eval-unit-unseen',
    tier: 'primary' as const,
    prompt: 'This one was never shown',
    output: ' to anyone.',
    latencyMs: 40,
    createdAt: new Date(start + 30 * 60_000),
  });
  await db.generation.createMany({ data: generations });
  await db.feedbackEvent.createMany({ data: events });
  return {
    from: new Date(start).toISOString(),
    to: new Date(start + 3_600_000).toISOString(),
    kept,
    selfPrompts,
  };
}
