import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { createCaller } from '~/composition/root';
import { toPublicError } from '~/server/errors';
import { contextFor, toSessionUser } from '~/server/trpc';
import { describeOnEachDatabase, makeUser } from '~/test/databases';
import { foldAll } from './rollup-job';
import { generateTraffic } from './traffic';

describeOnEachDatabase('dashboards router', ({ db }) => {
  it('reads acceptance, ARC and percentiles per version from the rollups; empty when nothing matches', async () => {
    const tag = randomUUID().slice(0, 8);
    const featureId = `test-dashr-${tag}`;
    await db().feature.create({
      data: { id: featureId, task: 'completion', config: {}, configHash: 't' },
    });
    const versions = await Promise.all(
      [1, 2].map((v) =>
        db().modelVersion.create({
          data: { name: `dashr-${tag}`, version: String(v), backendModel: `dashr-${tag}/${v}` },
        }),
      ),
    );
    const start = new Date(Date.UTC(2026, 10, 1, 0, 0));
    const traffic = generateTraffic(
      [
        {
          featureId,
          variants: versions.map((v, i) => ({
            modelVersionId: v.id,
            quality: 1 + i,
            speed: 1 - 0.4 * i,
          })),
        },
      ],
      { seed: 3, suggestions: 400, start, spanMs: 4 * 24 * 3_600_000 },
    );
    await db().generation.createMany({ data: traffic.generations });
    await db().feedbackEvent.createMany({ data: [...traffic.events, ...traffic.late] });
    await foldAll(db());

    const caller = createCaller(contextFor(db(), toSessionUser(await makeUser(db(), 'viewer'))));
    const range = { from: start, to: new Date(start.getTime() + 5 * 24 * 3_600_000) };
    const dash = await caller.dashboards.metrics({ featureId, ...range });
    expect(dash.empty).toBe(false);
    expect(dash.granularity).toBe('day');
    expect(dash.versions.map((v) => v.label).sort()).toEqual([`dashr-${tag}/1`, `dashr-${tag}/2`]);
    const [exact] = await db().$queryRawUnsafe<{ n: number; p95: number }[]>(
      `SELECT count(*)::int AS n, percentile_disc(0.95) WITHIN GROUP (ORDER BY "latencyMs") AS p95
       FROM generation WHERE "featureId" = $1 AND "modelVersionId" = $2 AND (error IS NULL OR error <> 'aborted by the caller')`,
      featureId,
      versions[0]!.id,
    );
    const v1 = dash.versions.find((v) => v.versionId === versions[0]!.id)!;
    expect(v1.counts.opportunities).toBe(exact!.n);
    expect(Math.abs(v1.latency.server.p95! - exact!.p95) / exact!.p95).toBeLessThanOrEqual(0.0101);
    expect(dash.series.length).toBeGreaterThanOrEqual(8);
    expect(dash.latencyBuckets.length).toBe(12);
    for (const t of dash.tierShare)
      expect(t.primary + t.fallback_model + t.ngram + t.none).toBeCloseTo(1);

    const filtered = await caller.dashboards.metrics({
      featureId,
      modelVersionIds: [versions[1]!.id],
      tier: 'ngram',
      ...range,
    });
    expect(filtered.versions.map((v) => v.versionId)).toEqual([versions[1]!.id]);
    const none = await caller.dashboards.metrics({
      featureId,
      from: new Date(Date.UTC(2020, 0, 1)),
      to: new Date(Date.UTC(2020, 0, 2)),
    });
    expect(none).toMatchObject({ empty: true, versions: [], series: [] });
  });

  it('answers bad filters with a 400 that says what is wrong', async () => {
    const caller = createCaller(contextFor(db(), toSessionUser(await makeUser(db(), 'viewer'))));
    const from = new Date(Date.UTC(2026, 10, 2));
    const cases: [unknown, RegExp][] = [
      [{ from, to: new Date(Date.UTC(2026, 10, 1)) }, /inverted/],
      [{ from, to: new Date(Date.UTC(2027, 10, 4)) }, /longer than 93 days/],
      [{ from: new Date(-8.64e15), to: from }, /before 2000-01-01/],
      [{ from, to: new Date(8.64e15) }, /after 2200-01-01/],
      [{ from, to: Number.NaN }, /Expected a date/],
      [{ from, to: new Date(Date.UTC(2026, 10, 3)), tier: 'gold' }, /tier/],
      [{ from, to: new Date(Date.UTC(2026, 10, 3)), modelVersionIds: 'v1' }, /modelVersionIds/],
      [{ from, to: 'not a date' }, /to/],
      [{ from, to: from, colour: 'red' }, /colour|Unrecognized/],
      [
        { featureId: 'no-such-feature', from, to: new Date(Date.UTC(2026, 10, 3)) },
        /Unknown feature/,
      ],
      [
        { modelVersionIds: ['nope'], from, to: new Date(Date.UTC(2026, 10, 3)) },
        /Unknown model version/,
      ],
      [{ armId: 'nope', from, to: new Date(Date.UTC(2026, 10, 3)) }, /Unknown experiment arm/],
    ];
    for (const [input, message] of cases) {
      const error = await caller.dashboards.metrics(input as never).then(
        () => null,
        (e: unknown) => toPublicError(e),
      );
      expect(error, JSON.stringify(input)).toMatchObject({
        status: 400,
        message: expect.stringMatching(message),
      });
    }
    // The widest range allowed reads day rollups (whole UTC days), not hours or raw rows.
    const quarter = await caller.dashboards.metrics({
      from: new Date(Date.UTC(2026, 7, 1, 5)),
      to: new Date(Date.UTC(2026, 10, 2)),
    });
    expect(quarter).toMatchObject({
      granularity: 'day',
      range: { from: new Date(Date.UTC(2026, 7, 1)), to: new Date(Date.UTC(2026, 10, 2)) },
    });
    const anonymous = createCaller(contextFor(db(), null));
    await expect(anonymous.dashboards.metrics({ from, to: new Date() })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });
});
