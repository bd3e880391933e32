/**
 * Dashboard reads. Every figure comes from the rollups (never from raw generations or events):
 * `rollup_hour` for ranges up to HOURLY_UP_TO_HOURS, `rollup_day` (whole UTC days) beyond,
 * so a query costs the number of (feature, version, arm, tier, hour) rows in range, not the
 * number of events. Counts are summed in SQL; latency histograms are merged in SQL per (version,
 * time bucket) and read into percentiles here (latency-sketch.ts).
 */
import { DomainError } from '~/server/errors';
import type { Db } from '~/server/db';
import {
  addCounts,
  COUNT_FIELDS,
  LATENCY_BUCKET_LABELS,
  METRICS,
  zeroCounts,
  type Counts,
} from '~/features/feedback/metrics';
import { mergeAll, quantile, type SparseHistogram } from '~/lib/latency-sketch';
import {
  HOURLY_UP_TO_HOURS,
  MAX_RANGE_DAYS,
  TIERS,
  type DashboardFilters,
  type TierName,
} from '../filters';
import { modelVersionLabel } from '~/features/models/model-label';

const HOUR_MS = 3_600_000;
const LATENCIES = ['server', 'client', 'person'] as const;
type LatencyKind = (typeof LATENCIES)[number];
export type Percentiles = { p50: number | null; p95: number | null; p99: number | null };

export interface Freshness {
  lastFoldedAt: Date | null;
  /** Generations and events stored but not yet in the rollups (capped at 100,001). */
  pending: number;
  oldestPendingAt: Date | null;
}

export async function readFreshness(db: Db): Promise<Freshness> {
  const [state, pending, oldest] = await Promise.all([
    db.rollupState.findUnique({ where: { id: 1 } }),
    db.$queryRawUnsafe<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM (SELECT 1 FROM rollup_queue LIMIT 100001) q',
    ),
    db.rollupQueue.findFirst({ orderBy: { id: 'asc' }, select: { enqueuedAt: true } }),
  ]);
  return {
    lastFoldedAt: state?.lastFoldedAt ?? null,
    pending: pending[0]?.n ?? 0,
    oldestPendingAt: oldest?.enqueuedAt ?? null,
  };
}

/** Refuses ranges and ids the page could not have offered, with a message saying which. */
async function checkFilters(db: Db, f: DashboardFilters) {
  if (!(f.from.getTime() < f.to.getTime()))
    throw new DomainError(
      'BAD_REQUEST',
      'The time range is empty or inverted: "from" must be before "to"',
    );
  if (f.to.getTime() - f.from.getTime() > MAX_RANGE_DAYS * 24 * HOUR_MS)
    throw new DomainError(
      'BAD_REQUEST',
      `The time range is longer than ${MAX_RANGE_DAYS} days; narrow it`,
    );
  const [feature, versions, arm] = await Promise.all([
    f.featureId
      ? db.feature.findUnique({ where: { id: f.featureId }, select: { id: true } })
      : true,
    f.modelVersionIds?.length
      ? db.modelVersion.count({ where: { id: { in: f.modelVersionIds } } })
      : 0,
    f.armId ? db.arm.findUnique({ where: { id: f.armId }, select: { id: true } }) : true,
  ]);
  if (!feature) throw new DomainError('BAD_REQUEST', `Unknown feature "${f.featureId}"`);
  if (f.modelVersionIds?.length && versions !== new Set(f.modelVersionIds).size)
    throw new DomainError('BAD_REQUEST', 'Unknown model version in the filter');
  if (!arm) throw new DomainError('BAD_REQUEST', `Unknown experiment arm "${f.armId}"`);
}

function whereOf(f: DashboardFilters, time: 'hour' | 'day'): { sql: string; params: unknown[] } {
  const params: unknown[] = [f.from, f.to];
  const clauses = [`r."${time}" >= $1::timestamp(3)`, `r."${time}" < $2::timestamp(3)`];
  const add = (sql: (n: number) => string, value: unknown) => {
    params.push(value);
    clauses.push(sql(params.length));
  };
  if (f.featureId) add((n) => `r."featureId" = $${n}`, f.featureId);
  if (f.modelVersionIds?.length)
    add((n) => `r."modelVersionId" = ANY($${n}::text[])`, f.modelVersionIds);
  if (f.armId) add((n) => `r."armId" = $${n}`, f.armId);
  if (f.tier) add((n) => `r.tier = $${n}::"Tier"`, f.tier);
  return { sql: clauses.join(' AND '), params };
}

type CountsRow = Record<(typeof COUNT_FIELDS)[number], number> & {
  v: string;
  t: Date;
  tier: TierName;
  shownByLatency: number[];
  acceptByLatency: number[];
};

export interface SeriesPoint {
  t: Date;
  versionId: string;
  opportunities: number;
  acceptance: number | null;
  arc2m: number;
  charsPerOpportunity: number | null;
  server: Percentiles;
}

export interface VersionSummary {
  versionId: string;
  label: string;
  counts: Counts;
  metrics: Record<keyof typeof METRICS, number | null>;
  latency: Record<LatencyKind, Percentiles>;
  tierShare: Record<TierName, number | null>;
}

export interface Dashboard {
  freshness: Freshness;
  granularity: 'hour' | 'day';
  /** The range read: whole hours, or whole UTC days beyond HOURLY_UP_TO_HOURS. */
  range: { from: Date; to: Date };
  empty: boolean;
  versions: VersionSummary[];
  series: SeriesPoint[];
  tierShare: ({ t: Date } & Record<TierName, number>)[];
  latencyBuckets: {
    bucket: string;
    versionId: string;
    shown: number;
    accepted: number;
    acceptance: number | null;
  }[];
}

// Element-wise sums of the fixed-length per-latency-bucket arrays.
const sumArray = (name: string) =>
  `ARRAY[${LATENCY_BUCKET_LABELS.map((_, i) => `coalesce(sum(r."${name}"[${i + 1}]), 0)::int`).join(', ')}] AS "${name}"`;

const percentilesOf = (h: SparseHistogram): Percentiles => ({
  p50: quantile(h, 0.5),
  p95: quantile(h, 0.95),
  p99: quantile(h, 0.99),
});

export async function readDashboard(db: Db, filters: DashboardFilters): Promise<Dashboard> {
  await checkFilters(db, filters);
  const granularity =
    filters.to.getTime() - filters.from.getTime() <= HOURLY_UP_TO_HOURS * HOUR_MS ? 'hour' : 'day';
  // Long ranges read day rows, so they cover whole UTC days (the response says which).
  const DAY = 24 * HOUR_MS;
  const range =
    granularity === 'hour'
      ? { from: new Date(Math.floor(filters.from.getTime() / HOUR_MS) * HOUR_MS), to: filters.to }
      : {
          from: new Date(Math.floor(filters.from.getTime() / DAY) * DAY),
          to: new Date(Math.ceil(filters.to.getTime() / DAY) * DAY),
        };
  const table = granularity === 'hour' ? 'rollup_hour' : 'rollup_day';
  const where = whereOf({ ...filters, ...range }, granularity);
  const g = `r."${granularity}"`;
  const countsSql = `
    SELECT r."modelVersionId" AS v, ${g} AS t, r.tier::text AS tier,
      ${COUNT_FIELDS.map((f) => `sum(r."${f}")::float8 AS "${f}"`).join(', ')},
      ${sumArray('shownByLatency')}, ${sumArray('acceptByLatency')}
    FROM ${table} r WHERE ${where.sql} GROUP BY 1, 2, 3`;
  const histSql = `
    SELECT v, t, m, array_agg(i ORDER BY i) AS idx, array_agg(c ORDER BY i) AS cnt FROM (
      ${LATENCIES.map(
        (m) => `SELECT r."modelVersionId" AS v, ${g} AS t, '${m}' AS m, u.i, sum(u.c)::int AS c
        FROM ${table} r CROSS JOIN LATERAL unnest(r."${m}Idx", r."${m}Cnt") AS u(i, c)
        WHERE ${where.sql} GROUP BY 1, 2, 4`,
      ).join(' UNION ALL ')}
    ) x GROUP BY v, t, m`;
  const [freshness, countRows, histRows, versionRows] = await Promise.all([
    readFreshness(db),
    db.$queryRawUnsafe<CountsRow[]>(countsSql, ...where.params),
    db.$queryRawUnsafe<{ v: string; t: Date; m: LatencyKind; idx: number[]; cnt: number[] }[]>(
      histSql,
      ...where.params,
    ),
    db.modelVersion.findMany({ select: { id: true, name: true, version: true } }),
  ]);
  const labelOf = (v: string) => {
    const row = versionRows.find((x) => x.id === v);
    return row ? modelVersionLabel(row) : v === '' ? '(no version)' : v;
  };

  const byVersion = new Map<string, Counts>();
  const byPoint = new Map<string, { t: Date; v: string; counts: Counts }>();
  const tierByVersion = new Map<string, Record<TierName, number>>();
  const tierByTime = new Map<number, Record<TierName, number>>();
  const emptyTiers = () => Object.fromEntries(TIERS.map((t) => [t, 0])) as Record<TierName, number>;
  for (const row of countRows) {
    const c = zeroCounts();
    for (const f of COUNT_FIELDS) c[f] = Number(row[f]);
    c.shownByLatency = row.shownByLatency;
    c.acceptByLatency = row.acceptByLatency;
    addCounts(getOr(byVersion, row.v, zeroCounts), c);
    const point = getOr(byPoint, `${row.v}|${row.t.getTime()}`, () => ({
      t: row.t,
      v: row.v,
      counts: zeroCounts(),
    }));
    addCounts(point.counts, c);
    getOr(tierByVersion, row.v, emptyTiers)[row.tier] += c.opportunities;
    getOr(tierByTime, row.t.getTime(), emptyTiers)[row.tier] += c.opportunities;
  }
  const hist = new Map<string, SparseHistogram>();
  for (const h of histRows) hist.set(`${h.v}|${h.t.getTime()}|${h.m}`, { idx: h.idx, cnt: h.cnt });
  const histOf = (v: string, m: LatencyKind, t?: number) =>
    t === undefined
      ? mergeAll(
          histRows.filter((h) => h.v === v && h.m === m).map((h) => ({ idx: h.idx, cnt: h.cnt })),
        )
      : (hist.get(`${v}|${t}|${m}`) ?? { idx: [], cnt: [] });

  const metricsOf = (c: Counts) =>
    Object.fromEntries(Object.entries(METRICS).map(([k, m]) => [k, m.of(c)])) as Record<
      keyof typeof METRICS,
      number | null
    >;
  const versions = [...byVersion.entries()]
    .map(([v, counts]): VersionSummary => {
      const tiers = tierByVersion.get(v) ?? emptyTiers();
      return {
        versionId: v,
        label: labelOf(v),
        counts,
        metrics: metricsOf(counts),
        latency: Object.fromEntries(
          LATENCIES.map((m) => [m, percentilesOf(histOf(v, m))]),
        ) as Record<LatencyKind, Percentiles>,
        tierShare: Object.fromEntries(
          TIERS.map((t) => [t, counts.opportunities > 0 ? tiers[t] / counts.opportunities : null]),
        ) as Record<TierName, number | null>,
      };
    })
    .sort((a, b) => b.counts.opportunities - a.counts.opportunities);
  const series = [...byPoint.values()]
    .map(({ t, v, counts }) => ({
      t,
      versionId: v,
      opportunities: counts.opportunities,
      acceptance: METRICS.acceptance.of(counts),
      arc2m: counts.arc2m,
      charsPerOpportunity: METRICS.charsPerOpportunity.of(counts),
      server: percentilesOf(histOf(v, 'server', t.getTime())),
    }))
    .sort((a, b) => a.t.getTime() - b.t.getTime() || a.versionId.localeCompare(b.versionId));
  const tierShare = [...tierByTime.entries()]
    .sort(([a], [b]) => a - b)
    .map(([t, tiers]) => {
      const total = TIERS.reduce((s, k) => s + tiers[k], 0);
      return {
        t: new Date(t),
        ...(Object.fromEntries(TIERS.map((k) => [k, total > 0 ? tiers[k] / total : 0])) as Record<
          TierName,
          number
        >),
      };
    });
  const latencyBuckets = versions.flatMap((v) =>
    LATENCY_BUCKET_LABELS.map((bucket, i) => {
      const shown = v.counts.shownByLatency[i] ?? 0;
      const accepted = v.counts.acceptByLatency[i] ?? 0;
      return {
        bucket,
        versionId: v.versionId,
        shown,
        accepted,
        acceptance: shown > 0 ? accepted / shown : null,
      };
    }),
  );
  return {
    freshness,
    granularity,
    range,
    empty: countRows.length === 0,
    versions,
    series,
    tierShare,
    latencyBuckets,
  };
}

function getOr<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/** What the filter controls offer: features, model versions and arms that have rollups. */
export async function readFilterOptions(db: Db) {
  const [features, versions, arms] = await Promise.all([
    db.feature.findMany({ select: { id: true }, orderBy: { id: 'asc' } }),
    db.modelVersion.findMany({
      select: { id: true, name: true, version: true },
      orderBy: [{ name: 'asc' }, { version: 'asc' }],
    }),
    db.arm.findMany({
      select: { id: true, name: true, experiment: { select: { name: true, featureId: true } } },
      orderBy: { experiment: { createdAt: 'desc' } },
      take: 200,
    }),
  ]);
  return {
    features: features.map((f) => f.id),
    versions: versions.map((v) => ({ id: v.id, label: modelVersionLabel(v) })),
    arms: arms.map((a) => ({
      id: a.id,
      label: `${a.experiment.name} · ${a.name}`,
      featureId: a.experiment.featureId,
    })),
  };
}
