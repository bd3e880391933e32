// A few simulated writers against the real app (its tRPC request handler, reached through
// @trpc/client over a fetch) and the real worker with the demo models, on both databases: every
// suggestion they were answered is a stored Generation of their unit, every reaction they report
// is stored once (a resend is all duplicates), and the stored events agree with what they did.
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { appRouter } from '~/composition/root';
import { describeOnEachDatabase } from '~/test/databases';
import { startWorker, type WorkerProcess } from '~/test/worker-process';
import { WRITER_BEHAVIOUR } from './behaviour';
import { makePopulation, writePhase } from './population';
import { httpTransport } from './transport';
import type { Document } from './writer';

let worker: WorkerProcess;
beforeAll(async () => {
  worker = await startWorker();
  // The app's backend pool reads INFERENCE_BACKENDS once, on first use.
  process.env.INFERENCE_BACKENDS = worker.baseUrl;
  // Warm the model the feature asks first, so the first answers fit the latency budget.
  for (const prompt of ['Thank you for', 'I think we should'])
    await fetch(`${worker.baseUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'flywheel-teacher', prompt, max_tokens: 4 }),
    });
});
afterAll(async () => {
  await worker?.stop();
});

const DOCUMENTS: Document[] = [
  {
    id: 'd1',
    text: 'Thank you for your help with the server. I think we should move the meeting to Thursday. Please let me know if you have any questions.',
  },
  {
    id: 'd2',
    text: 'I have been trying to get the mail server to work for a week now. Does anyone know how to do this? Thanks in advance for any help.',
  },
  {
    id: 'd3',
    text: 'The President said that the people of the United States want peace. We will work with the Congress to make the country strong.',
  },
];

describeOnEachDatabase('simulated writers through the app', ({ db }) => {
  it('type their texts, and every reaction they report is stored once', async () => {
    const seed = `it-${Date.now()}`;
    const transport = httpTransport({
      baseUrl: 'http://127.0.0.1',
      fetch: (input, init) =>
        fetchRequestHandler({
          endpoint: '/api/trpc',
          req: new Request(input as string, init),
          router: appRouter,
          createContext: () => ({
            db: db(),
            getUser: () => Promise.resolve(null),
            clientAddress: '127.0.0.1',
            allowAnonymousWrite: true,
          }),
        }),
    });
    // Patient writers who pause at every word: every answer is painted and decided.
    const params = {
      ...WRITER_BEHAVIOUR,
      pauseAtWord: 1,
      pause: { ...WRITER_BEHAVIOUR.pause, minMs: 5_000, maxMs: 5_000 },
    };
    const writers = makePopulation({
      seed,
      writers: 3,
      documents: DOCUMENTS,
      transport,
      featureId: 'inline-completion',
      captureText: true,
      params,
    });
    const tally = await writePhase(writers, {
      deadline: Date.now() + 50_000,
      documentsPerWriter: 2,
    });
    // Each writer wrote its document twice through (the deadline only bounds a stuck run).
    expect(tally.documents).toBe(6);
    expect(tally.failed).toBe(0);
    expect(tally.eventsRejected).toBe(0);

    const unitIds = writers.map((_, i) => `sim-${seed}-w${String(i).padStart(3, '0')}`);
    const generations = await db().generation.findMany({
      where: { unitId: { in: unitIds } },
      include: { feedback: true },
    });
    const answered = [...tally.byModel.values()].reduce((n, a) => n + a.requests, 0);
    expect(generations.length).toBe(answered);
    expect(answered).toBeGreaterThan(20);
    const events = generations.flatMap((g) => g.feedback);
    expect(events.length).toBe(tally.eventsSent);
    const count = (type: string) => events.filter((e) => e.type === type).length;
    const shown = [...tally.byModel.values()].reduce((n, a) => n + a.shown, 0);
    expect(count('shown')).toBe(shown);
    const outcomes = ['accepted', 'accepted_partial', 'typed_through', 'dismissed', 'ignored'];
    expect(outcomes.reduce((n, o) => n + count(o), 0)).toBe(shown);
    // Training data is on for the feature: the text typed instead is stored with the decision.
    const typedPast = events.filter((e) => e.type === 'ignored' || e.type === 'dismissed');
    for (const e of typedPast)
      expect(typeof (e.payload as { typedText?: unknown }).typedText).toBe('string');
    // Retention comes for accepted suggestions only, with the kept text, as the windows pass.
    const accepted = new Set(
      events
        .filter((e) => e.type === 'accepted' || e.type === 'accepted_partial')
        .map((e) => e.generationId),
    );
    const retention = events.filter((e) => e.type === 'retention');
    expect(accepted.size).toBeGreaterThan(0);
    expect(retention.length).toBeGreaterThan(0);
    for (const e of retention) {
      expect(accepted.has(e.generationId)).toBe(true);
      expect(typeof (e.payload as { text?: unknown }).text).toBe('string');
    }
    console.log(
      `writers: ${generations.length} suggestions, ${shown} shown, ` +
        outcomes.map((o) => `${o} ${count(o)}`).join(', ') +
        `, ${retention.length} retention`,
    );

    // The same seed again: the same event ids, so everything is a duplicate.
    const again = await transport.ingest({
      unitId: unitIds[0]!,
      events: events
        .filter((e) => generations.find((g) => g.id === e.generationId)?.unitId === unitIds[0])
        .slice(0, 50)
        .map((e) => ({
          type: e.type,
          clientEventId: e.clientEventId,
          generationId: e.generationId,
          clientTs: Date.now(),
          payload: e.payload,
        })) as never,
    });
    expect(again.accepted).toBe(0);
  });
});
