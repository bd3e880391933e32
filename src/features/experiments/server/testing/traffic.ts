/** Seeded traffic for database tests of the job and the results. */
import { randomUUID } from 'node:crypto';
import type { Prisma } from '~/generated/prisma/client';
import type { Db } from '~/server/db';
import { seededRandom } from '../../testing/simulate';
import { ExperimentServing } from '../experiment-serving';

export interface Behaviour {
  fallback: number;
  accept: number;
  /** Characters retained at 2 min per accept. */
  retained?: number;
}

/**
 * Real traffic through the serving path: units resolve their arm (which logs exposures), each
 * makes a few suggestions stored as Generations, each shown and sometimes accepted.
 */
export async function traffic(
  db: Db,
  featureId: string,
  units: number,
  behaviour: Record<string, Behaviour>,
  seed: number,
) {
  const random = seededRandom(seed);
  const serving = new ExperimentServing(db, { flushMs: 20 });
  const generations: Prisma.GenerationCreateManyInput[] = [];
  const events: Prisma.FeedbackEventCreateManyInput[] = [];
  for (let i = 0; i < units; i++) {
    const unitId = `gj-${seed}-${i}`;
    const arm = await serving.resolve(featureId, unitId);
    if (!arm) continue;
    const armName = arm.model.label;
    const b = behaviour[armName] ?? { fallback: 0.05, accept: 0.3 };
    const n = 1 + Math.floor(random() * 4);
    for (let k = 0; k < n; k++) {
      const id = randomUUID();
      const fell = random() < b.fallback;
      generations.push({
        id,
        featureId,
        unitId,
        modelVersionId: arm.model.id,
        experimentId: arm.experimentId,
        armId: arm.armId,
        tier: fell ? 'ngram' : 'primary',
        prompt: 'p',
        output: 'o',
        latencyMs: 80 + random() * 40,
      });
      events.push({
        clientEventId: randomUUID(),
        generationId: id,
        type: 'shown',
        payload: {},
        clientTs: new Date(),
      });
      if (random() < b.accept) {
        events.push({
          clientEventId: randomUUID(),
          generationId: id,
          type: 'accepted',
          payload: {},
          clientTs: new Date(),
        });
        const retained = Math.round((b.retained ?? 10) * (0.5 + random()));
        events.push({
          clientEventId: randomUUID(),
          generationId: id,
          type: 'retention',
          payload: {
            window: '2m',
            retainedChars: retained,
            acceptedChars: retained + 2,
            editDistance: 0.1,
          },
          clientTs: new Date(),
        });
      }
    }
  }
  await serving.stop();
  await db.generation.createMany({ data: generations });
  await db.feedbackEvent.createMany({ data: events });
}
