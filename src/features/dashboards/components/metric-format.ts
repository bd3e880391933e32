import type { MetricId } from '~/features/feedback/metrics';

/** The per-version metrics the page's table, comparison and CSV show. */
export const SUMMARY_METRICS: MetricId[] = [
  'acceptance',
  'acceptanceFull',
  'acceptancePartial',
  'typedThrough',
  'dismissal',
  'ignore',
  'arc30s',
  'arc2m',
  'arc10m',
  'charsPerOpportunity',
  'editDistance2m',
  'errorRate',
];

export const RATE_METRICS = new Set<MetricId>([
  'shownRate',
  'acceptance',
  'acceptanceFull',
  'acceptancePartial',
  'typedThrough',
  'dismissal',
  'ignore',
  'errorRate',
]);

export function formatMetric(id: MetricId, v: number | null) {
  if (v === null) return '—';
  if (RATE_METRICS.has(id)) return `${(v * 100).toFixed(1)}%`;
  return v >= 100 ? Math.round(v).toLocaleString() : v.toFixed(2);
}
