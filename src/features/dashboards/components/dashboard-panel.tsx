'use client';

import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { buttonClass, inputClass } from '~/components/form-fields';
import { METRICS } from '~/features/feedback/metrics';
import { useTRPC } from '~/trpc/client';
import type { DashboardFiltersInput } from '../filters';
import { LatencyBucketChart, TierShareChart, VersionLines } from './dashboard-charts';
import { formatMetric, SUMMARY_METRICS } from './metric-format';
import { VersionComparison } from './version-comparison';

const HOUR = 3_600_000;
const RANGES = { '24h': 24, '3d': 72, '7d': 168, '30d': 720, '90d': 2160 } as const;
type RangeKey = keyof typeof RANGES;

/** Any table as CSV (RFC 4180 quoting), downloaded by the browser. */
function downloadCsv(name: string, header: string[], rows: (string | number | null)[][]) {
  const cell = (v: string | number | null) => {
    const s = v === null ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const text = [header, ...rows].map((r) => r.map(cell).join(',')).join('\n');
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

function ago(date: Date | null) {
  if (!date) return 'never';
  const s = Math.max(0, Math.round((Date.now() - date.getTime()) / 1000));
  return s < 120
    ? `${s} s ago`
    : s < 7200
      ? `${Math.round(s / 60)} min ago`
      : date.toLocaleString();
}

function rangeOf(key: RangeKey) {
  const to = Math.ceil(Date.now() / HOUR) * HOUR;
  return { from: new Date(to - RANGES[key] * HOUR), to: new Date(to) };
}

export function DashboardPanel() {
  const trpc = useTRPC();
  const [range, setRange] = useState<RangeKey>('7d');
  const [span, setSpan] = useState(() => rangeOf('7d'));
  const [featureId, setFeatureId] = useState('');
  const [versionId, setVersionId] = useState('');
  const [compareId, setCompareId] = useState('');
  const [armId, setArmId] = useState('');
  const options = useQuery(trpc.dashboards.filterOptions.queryOptions());
  const filters: DashboardFiltersInput = {
    ...span,
    ...(featureId ? { featureId } : {}),
    ...(versionId ? { modelVersionIds: compareId ? [versionId, compareId] : [versionId] } : {}),
    ...(armId ? { armId } : {}),
  };
  const dash = useQuery({
    ...trpc.dashboards.metrics.queryOptions(filters),
    refetchInterval: 30_000,
    retry: false,
  });
  const data = dash.data;
  const select = (
    label: string,
    value: string,
    set: (v: string) => void,
    items: { id: string; label: string }[],
  ) => (
    <label className="flex flex-col text-xs text-slate-600">
      {label}
      <select
        className={inputClass}
        value={value}
        onChange={(e) => set(e.target.value)}
        aria-label={label}
      >
        <option value="">All</option>
        {items.map((i) => (
          <option key={i.id} value={i.id}>
            {i.label}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <div className="space-y-6" data-testid="dashboard-panel">
      <div className="flex flex-wrap items-end gap-3">
        {select(
          'Feature',
          featureId,
          setFeatureId,
          (options.data?.features ?? []).map((f) => ({ id: f, label: f })),
        )}
        {select(
          'Model version',
          versionId,
          (v) => {
            setVersionId(v);
            if (!v || v === compareId) setCompareId('');
          },
          options.data?.versions ?? [],
        )}
        {versionId &&
          select(
            'Compare with',
            compareId,
            setCompareId,
            (options.data?.versions ?? []).filter((v) => v.id !== versionId),
          )}
        {select(
          'Experiment arm',
          armId,
          setArmId,
          (options.data?.arms ?? []).filter((a) => !featureId || a.featureId === featureId),
        )}
        <label className="flex flex-col text-xs text-slate-600">
          Time range
          <select
            className={inputClass}
            value={range}
            aria-label="Time range"
            onChange={(e) => {
              const key = e.target.value as RangeKey;
              setRange(key);
              setSpan(rangeOf(key));
            }}
          >
            {Object.keys(RANGES).map((k) => (
              <option key={k} value={k}>
                Last {k}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className={buttonClass} onClick={() => setSpan(rangeOf(range))}>
          Refresh
        </button>
      </div>

      {data && (
        <p className="text-xs text-slate-500" data-testid="freshness">
          Rollups last folded {ago(data.freshness.lastFoldedAt)}
          {data.freshness.pending > 0
            ? `; ${data.freshness.pending.toLocaleString()} stored events not yet counted (oldest ${ago(data.freshness.oldestPendingAt)})`
            : '; every stored event is counted'}
          . Per {data.granularity === 'hour' ? 'hour' : 'UTC day (whole days)'}, by when each
          suggestion was made (late feedback updates its hour).
        </p>
      )}
      {dash.error && (
        <p role="alert" className="rounded bg-red-50 p-3 text-sm text-red-700">
          {dash.error.message}
        </p>
      )}
      {dash.isLoading && <p className="text-sm text-slate-500">Loading…</p>}
      {data?.empty && (
        <div
          className="rounded bg-white p-6 text-sm text-slate-600 ring-1 ring-slate-200"
          data-testid="dashboard-empty"
        >
          <p className="font-medium text-slate-800">No suggestions in this range.</p>
          <p className="mt-1">
            Use the writing page to make some, widen the range or clear the filters, or fill a
            development database with{' '}
            <code className="font-mono">npm run seed:traffic -- --suggestions 10000</code>. New
            suggestions are counted within seconds.
          </p>
        </div>
      )}
      {data && !data.empty && (
        <>
          <section>
            <div className="mb-2 flex items-center justify-between">
              <h2 className="text-lg font-medium">Per model version</h2>
              <button
                type="button"
                className={buttonClass}
                onClick={() =>
                  downloadCsv(
                    'dashboard-versions.csv',
                    [
                      'version',
                      'opportunities',
                      'shown',
                      ...SUMMARY_METRICS,
                      'server_p50_ms',
                      'server_p95_ms',
                      'server_p99_ms',
                      'client_p95_ms',
                      'person_p50_ms',
                      'fallback_share',
                    ],
                    data.versions.map((v) => [
                      v.label,
                      v.counts.opportunities,
                      v.counts.shown,
                      ...SUMMARY_METRICS.map((m) => v.metrics[m]),
                      v.latency.server.p50,
                      v.latency.server.p95,
                      v.latency.server.p99,
                      v.latency.client.p95,
                      v.latency.person.p50,
                      v.tierShare.primary === null ? null : 1 - v.tierShare.primary,
                    ]),
                  )
                }
              >
                Export CSV
              </button>
            </div>
            <div className="overflow-x-auto">
              <table
                className="w-full bg-white text-left text-sm ring-1 ring-slate-200"
                aria-label="Metrics per model version"
              >
                <thead className="bg-slate-50 text-slate-600">
                  <tr>
                    <th className="p-2">Version</th>
                    <th className="p-2 text-right">Opportunities</th>
                    <th className="p-2 text-right">Shown</th>
                    {SUMMARY_METRICS.map((m) => (
                      <th key={m} className="p-2 text-right" title={METRICS[m].help}>
                        {METRICS[m].label}
                      </th>
                    ))}
                    <th className="p-2 text-right" title="Request→response, p50 / p95 / p99">
                      Server ms
                    </th>
                    <th className="p-2 text-right" title="Response→shown, p50 / p95">
                      Client ms
                    </th>
                    <th className="p-2 text-right" title="Shown→decision, p50 / p95">
                      Person ms
                    </th>
                    <th className="p-2 text-right" title="Answered by a fallback tier (or nothing)">
                      Fallback
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.versions.map((v) => (
                    <tr
                      key={v.versionId}
                      className="border-t border-slate-100"
                      data-testid="version-row"
                    >
                      <td className="p-2 whitespace-nowrap">{v.label}</td>
                      <td className="p-2 text-right tabular-nums">
                        {v.counts.opportunities.toLocaleString()}
                      </td>
                      <td className="p-2 text-right tabular-nums">
                        {v.counts.shown.toLocaleString()}
                      </td>
                      {SUMMARY_METRICS.map((m) => (
                        <td key={m} className="p-2 text-right tabular-nums">
                          {formatMetric(m, v.metrics[m])}
                        </td>
                      ))}
                      <td className="p-2 text-right tabular-nums whitespace-nowrap">
                        {[v.latency.server.p50, v.latency.server.p95, v.latency.server.p99]
                          .map((x) => (x === null ? '—' : Math.round(x)))
                          .join(' / ')}
                      </td>
                      <td className="p-2 text-right tabular-nums whitespace-nowrap">
                        {[v.latency.client.p50, v.latency.client.p95]
                          .map((x) => (x === null ? '—' : Math.round(x)))
                          .join(' / ')}
                      </td>
                      <td className="p-2 text-right tabular-nums whitespace-nowrap">
                        {[v.latency.person.p50, v.latency.person.p95]
                          .map((x) => (x === null ? '—' : Math.round(x)))
                          .join(' / ')}
                      </td>
                      <td className="p-2 text-right tabular-nums">
                        {v.tierShare.primary === null
                          ? '—'
                          : `${((1 - v.tierShare.primary) * 100).toFixed(1)}%`}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
          {versionId && compareId && (
            <VersionComparison versions={data.versions} baseId={versionId} otherId={compareId} />
          )}
          <section className="grid gap-4 lg:grid-cols-2">
            <VersionLines
              title="Acceptance (accepted ÷ shown)"
              series={data.series}
              versions={data.versions}
              granularity={data.granularity}
              value={(p) => p.acceptance}
              format="percent"
            />
            <VersionLines
              title="Chars per opportunity (ARC 2 min ÷ requested)"
              series={data.series}
              versions={data.versions}
              granularity={data.granularity}
              value={(p) => p.charsPerOpportunity}
              format="number"
            />
            <VersionLines
              title="Server latency p95"
              series={data.series}
              versions={data.versions}
              granularity={data.granularity}
              value={(p) => p.server.p95}
              format="ms"
            />
            <VersionLines
              title="Server latency p50"
              series={data.series}
              versions={data.versions}
              granularity={data.granularity}
              value={(p) => p.server.p50}
              format="ms"
            />
            <TierShareChart data={data.tierShare} granularity={data.granularity} />
            <LatencyBucketChart data={data.latencyBuckets} versions={data.versions} />
          </section>
          <section>
            <button
              type="button"
              className={buttonClass}
              onClick={() =>
                downloadCsv(
                  'dashboard-series.csv',
                  [
                    'time',
                    'version',
                    'opportunities',
                    'acceptance',
                    'arc_2m',
                    'chars_per_opportunity',
                    'server_p50_ms',
                    'server_p95_ms',
                    'server_p99_ms',
                  ],
                  data.series.map((p) => [
                    p.t.toISOString(),
                    data.versions.find((v) => v.versionId === p.versionId)?.label ?? p.versionId,
                    p.opportunities,
                    p.acceptance,
                    p.arc2m,
                    p.charsPerOpportunity,
                    p.server.p50,
                    p.server.p95,
                    p.server.p99,
                  ]),
                )
              }
            >
              Export time series CSV
            </button>
          </section>
          <details className="text-sm text-slate-600">
            <summary className="cursor-pointer">How each metric is defined</summary>
            <dl className="mt-2 grid gap-x-4 gap-y-1 sm:grid-cols-[12rem_1fr]">
              {Object.values(METRICS).map((m) => (
                <div key={m.label} className="contents">
                  <dt className="font-medium text-slate-800">{m.label}</dt>
                  <dd>{m.help}</dd>
                </div>
              ))}
            </dl>
          </details>
        </>
      )}
    </div>
  );
}
