'use client';

import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { TIERS } from '../filters';

export interface ChartSeriesPoint {
  t: Date;
  versionId: string;
  acceptance: number | null;
  arc2m: number;
  charsPerOpportunity: number | null;
  server: { p50: number | null; p95: number | null; p99: number | null };
}

const COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];
const TIER_COLOURS: Record<(typeof TIERS)[number], string> = {
  primary: '#2563eb',
  fallback_model: '#f59e0b',
  ngram: '#a855f7',
  none: '#94a3b8',
};

const pct = (v: unknown) => (typeof v === 'number' ? `${(v * 100).toFixed(1)}%` : '—');
const ms = (v: unknown) => (typeof v === 'number' ? `${Math.round(v)} ms` : '—');

function timeLabel(granularity: 'hour' | 'day') {
  return (t: number) =>
    granularity === 'hour'
      ? new Date(t).toLocaleString(undefined, {
          day: 'numeric',
          hour: '2-digit',
          minute: '2-digit',
        })
      : new Date(t).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

/** One row per time bucket, one column per version: the shape recharts plots as lines. */
function pivot(
  series: ChartSeriesPoint[],
  value: (p: ChartSeriesPoint) => number | null,
): Record<string, number | null>[] {
  const rows = new Map<number, Record<string, number | null>>();
  for (const p of series) {
    const t = p.t.getTime();
    const row = rows.get(t) ?? { t };
    row[p.versionId] = value(p);
    rows.set(t, row);
  }
  return [...rows.values()].sort((a, b) => (a.t ?? 0) - (b.t ?? 0));
}

function Frame({ title, children }: { title: string; children: React.ReactElement }) {
  return (
    <figure className="rounded bg-white p-3 ring-1 ring-slate-200">
      <figcaption className="mb-2 text-sm font-medium text-slate-700">{title}</figcaption>
      <div className="h-56">
        <ResponsiveContainer width="100%" height="100%">
          {children}
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

export function VersionLines({
  title,
  series,
  versions,
  granularity,
  value,
  format,
}: {
  title: string;
  series: ChartSeriesPoint[];
  versions: { versionId: string; label: string }[];
  granularity: 'hour' | 'day';
  value: (p: ChartSeriesPoint) => number | null;
  format: 'percent' | 'ms' | 'number';
}) {
  const fmt =
    format === 'percent'
      ? pct
      : format === 'ms'
        ? ms
        : (v: unknown) => (typeof v === 'number' ? v.toFixed(2) : '—');
  return (
    <Frame title={title}>
      <LineChart data={pivot(series, value)}>
        <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
        <XAxis
          dataKey="t"
          type="number"
          scale="time"
          domain={['dataMin', 'dataMax']}
          tickFormatter={timeLabel(granularity)}
          fontSize={11}
        />
        <YAxis tickFormatter={fmt} fontSize={11} width={60} />
        <Tooltip
          labelFormatter={(t) => timeLabel(granularity)(Number(t))}
          formatter={(v) => fmt(v)}
        />
        <Legend />
        {versions.map((v, i) => (
          <Line
            key={v.versionId}
            dataKey={v.versionId}
            name={v.label}
            stroke={COLOURS[i % COLOURS.length]}
            dot={false}
            connectNulls
            isAnimationActive={false}
          />
        ))}
      </LineChart>
    </Frame>
  );
}

export function TierShareChart({
  data,
  granularity,
}: {
  data: ({ t: Date } & Record<(typeof TIERS)[number], number>)[];
  granularity: 'hour' | 'day';
}) {
  return (
    <Frame title="Which tier answered (share of suggestions)">
      <AreaChart data={data.map((d) => ({ ...d, t: d.t.getTime() }))}>
        <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
        <XAxis
          dataKey="t"
          type="number"
          scale="time"
          domain={['dataMin', 'dataMax']}
          tickFormatter={timeLabel(granularity)}
          fontSize={11}
        />
        <YAxis tickFormatter={pct} domain={[0, 1]} fontSize={11} width={60} />
        <Tooltip
          labelFormatter={(t) => timeLabel(granularity)(Number(t))}
          formatter={(v) => pct(v)}
        />
        <Legend />
        {TIERS.map((tier) => (
          <Area
            key={tier}
            dataKey={tier}
            stackId="tiers"
            stroke={TIER_COLOURS[tier]}
            fill={TIER_COLOURS[tier]}
            isAnimationActive={false}
          />
        ))}
      </AreaChart>
    </Frame>
  );
}

export function LatencyBucketChart({
  data,
  versions,
}: {
  data: { bucket: string; versionId: string; acceptance: number | null }[];
  versions: { versionId: string; label: string }[];
}) {
  const rows = new Map<string, Record<string, string | number | null>>();
  for (const d of data) {
    const row = rows.get(d.bucket) ?? { bucket: d.bucket };
    row[d.versionId] = d.acceptance;
    rows.set(d.bucket, row);
  }
  return (
    <Frame title="Acceptance by request→shown latency (does a slower answer get taken less?)">
      <BarChart data={[...rows.values()]}>
        <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
        <XAxis dataKey="bucket" fontSize={11} />
        <YAxis tickFormatter={pct} fontSize={11} width={60} />
        <Tooltip formatter={(v) => pct(v)} />
        <Legend />
        {versions.map((v, i) => (
          <Bar
            key={v.versionId}
            dataKey={v.versionId}
            name={v.label}
            fill={COLOURS[i % COLOURS.length]}
            isAnimationActive={false}
          />
        ))}
      </BarChart>
    </Frame>
  );
}
