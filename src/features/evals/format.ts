/** Plain-text rendering of a run's metrics (the CLI prints it). */
import type { EvalMetrics } from './run-metrics';
import type { Interval } from './summary';

const fixed = (v: number | null, digits: number) => (v === null ? '—' : v.toFixed(digits));
const ci = (i: Interval | null, digits: number) =>
  i ? ` [${i[0].toFixed(digits)}, ${i[1].toFixed(digits)}]` : '';
const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);
const pctCi = (i: Interval | null) => (i ? ` [${pct(i[0])}, ${pct(i[1])}]` : '');

export function formatMetrics(m: EvalMetrics): string {
  const ll = m.logLikelihood;
  const rows: [string, string][] = [
    ['examples', String(m.examples)],
    [
      'exact first word',
      `${pct(m.exactFirstWord.rate)}${pctCi(m.exactFirstWord.ci95)}  (${m.exactFirstWord.hits}/${m.exactFirstWord.n})`,
    ],
    [
      'exact match',
      `${pct(m.exactMatch.rate)}${pctCi(m.exactMatch.ci95)}  (${m.exactMatch.hits}/${m.exactMatch.n})`,
    ],
    ['chrF', `${fixed(m.chrf.mean, 2)}${ci(m.chrf.ci95, 2)}`],
    ['edit distance', `${fixed(m.editDistance.mean, 3)}${ci(m.editDistance.ci95, 3)}`],
    [
      'log-lik / token',
      ll.available
        ? `${fixed(ll.perToken.mean, 3)}${ci(ll.perToken.ci95, 3)} nats  (perplexity ${fixed(ll.perplexity, 2)}, ${ll.tokens} tokens, ${ll.examples} examples)`
        : `unavailable: ${ll.reason ?? 'no example'}`,
    ],
    [
      'log-lik / example',
      ll.available ? `${fixed(ll.perExample.mean, 3)}${ci(ll.perExample.ci95, 3)}` : '—',
    ],
    ['latency ms', `p50 ${fixed(m.latencyMs.p50, 1)}  p95 ${fixed(m.latencyMs.p95, 1)}`],
    ['ttft ms', `p50 ${fixed(m.ttftMs.p50, 1)}  p95 ${fixed(m.ttftMs.p95, 1)}`],
    [
      'tiers',
      Object.entries(m.tiers)
        .map(([t, n]) => `${t} ${n}`)
        .join(', '),
    ],
  ];
  if (ll.available && ll.reason) rows.push(['log-lik note', ll.reason]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}
