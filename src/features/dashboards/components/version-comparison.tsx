'use client';

import { METRICS, type MetricId } from '~/features/feedback/metrics';
import { formatMetric, RATE_METRICS, SUMMARY_METRICS } from './metric-format';

type Percentiles = { p50: number | null; p95: number | null; p99: number | null };
interface ComparedVersion {
  versionId: string;
  label: string;
  counts: { opportunities: number; shown: number };
  metrics: Record<MetricId, number | null>;
  latency: { server: Percentiles; person: Percentiles };
}

interface Row {
  name: string;
  help?: string;
  a: number | null;
  b: number | null;
  show: (v: number | null) => string;
  /** Rates differ in points; counts and times by a relative change. */
  points?: boolean;
}

function difference(row: Row) {
  if (row.a === null || row.b === null) return '—';
  const d = row.b - row.a;
  if (row.points) return `${d >= 0 ? '+' : ''}${(d * 100).toFixed(1)} pts`;
  if (row.a === 0) return d === 0 ? '0' : '—';
  const rel = d / Math.abs(row.a);
  return `${rel >= 0 ? '+' : ''}${(rel * 100).toFixed(1)}%`;
}

const ms = (v: number | null) => (v === null ? '—' : `${Math.round(v)} ms`);
const count = (v: number | null) => (v === null ? '—' : v.toLocaleString());

/** Two model versions side by side over the same range and filters, with B's difference from A. */
export function VersionComparison({
  versions,
  baseId,
  otherId,
}: {
  versions: ComparedVersion[];
  baseId: string;
  otherId: string;
}) {
  const a = versions.find((v) => v.versionId === baseId);
  const b = versions.find((v) => v.versionId === otherId);
  if (!a || !b)
    return (
      <p className="rounded bg-white p-4 text-sm text-slate-600 ring-1 ring-slate-200">
        {(a ?? b)?.label ?? 'Neither version'} has suggestions in this range; the other has none to
        compare with. Widen the range or clear the other filters.
      </p>
    );
  const rows: Row[] = [
    { name: 'Opportunities', a: a.counts.opportunities, b: b.counts.opportunities, show: count },
    { name: 'Shown', a: a.counts.shown, b: b.counts.shown, show: count },
    ...SUMMARY_METRICS.map((m) => ({
      name: METRICS[m].label,
      help: METRICS[m].help,
      a: a.metrics[m],
      b: b.metrics[m],
      show: (v: number | null) => formatMetric(m, v),
      points: RATE_METRICS.has(m),
    })),
    ...(['p50', 'p95', 'p99'] as const).map((p) => ({
      name: `Server latency ${p}`,
      a: a.latency.server[p],
      b: b.latency.server[p],
      show: ms,
    })),
    { name: 'Person latency p50', a: a.latency.person.p50, b: b.latency.person.p50, show: ms },
  ];
  return (
    <section>
      <h2 className="mb-2 text-lg font-medium">
        {b.label} against {a.label}
      </h2>
      <table
        className="w-full max-w-3xl bg-white text-left text-sm ring-1 ring-slate-200"
        aria-label="Version comparison"
      >
        <thead className="bg-slate-50 text-slate-600">
          <tr>
            <th className="p-2">Metric</th>
            <th className="p-2 text-right">{a.label}</th>
            <th className="p-2 text-right">{b.label}</th>
            <th className="p-2 text-right">Difference</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.name} className="border-t border-slate-100">
              <td className="p-2" title={row.help}>
                {row.name}
              </td>
              <td className="p-2 text-right tabular-nums">{row.show(row.a)}</td>
              <td className="p-2 text-right tabular-nums">{row.show(row.b)}</td>
              <td className="p-2 text-right tabular-nums">{difference(row)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
