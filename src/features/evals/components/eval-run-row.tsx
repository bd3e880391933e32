'use client';

import type { EvalRunView } from '../server/evals-queries';
import type { Interval } from '../summary';

const STATUS_STYLE: Record<string, string> = {
  queued: 'bg-slate-50 text-slate-700 ring-slate-200',
  running: 'bg-amber-50 text-amber-700 ring-amber-200',
  succeeded: 'bg-emerald-50 text-emerald-700 ring-emerald-200',
  failed: 'bg-red-50 text-red-700 ring-red-200',
};

export const pct = (v: number | null | undefined) =>
  v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`;
export const num = (v: number | null | undefined, digits: number) =>
  v === null || v === undefined ? '—' : v.toFixed(digits);
const range = (i: Interval | null, f: (v: number) => string) =>
  i ? `95 % interval ${f(i[0])} – ${f(i[1])}` : undefined;

/** One run: status, progress while it runs, the headline metrics once it is done, or why it failed. */
export function EvalRunRow({
  run,
  onRetry,
  retrying,
}: {
  run: EvalRunView;
  onRetry?: () => void;
  retrying: boolean;
}) {
  const m = run.metrics;
  const { done, total } = run.progress;
  return (
    <>
      <tr className="border-t border-slate-100 align-top" data-testid={`eval-run-${run.id}`}>
        <td className="py-2">
          <span
            data-testid="eval-status"
            className={`rounded-full px-2 py-0.5 text-xs ring-1 ${STATUS_STYLE[run.status] ?? ''}`}
          >
            {run.status}
          </span>
        </td>
        <td className="py-2 font-medium">{run.model.label}</td>
        <td className="py-2 text-xs text-slate-600">
          {run.source}
          <br />
          {run.featureId} · sample {run.sampleSize} · seed {run.seed}
        </td>
        <td className="py-2">
          <progress
            className="h-2 w-24"
            max={Math.max(total, 1)}
            value={done}
            aria-label={`${done} of ${total} examples`}
          />
          <div className="text-xs text-slate-500" data-testid="eval-progress">
            {done}/{total}
          </div>
        </td>
        <td className="py-2" title={range(m?.exactFirstWord.ci95 ?? null, pct)}>
          {pct(m?.exactFirstWord.rate)}
        </td>
        <td className="py-2" title={range(m?.exactMatch.ci95 ?? null, pct)}>
          {pct(m?.exactMatch.rate)}
        </td>
        <td
          className="py-2"
          data-testid="eval-chrf"
          title={range(m?.chrf.ci95 ?? null, (v) => v.toFixed(1))}
        >
          {num(m?.chrf.mean, 1)}
        </td>
        <td className="py-2">{num(m?.editDistance.mean, 3)}</td>
        <td className="py-2" title={m?.logLikelihood.reason ?? undefined}>
          {m?.logLikelihood.available ? num(m.logLikelihood.perToken.mean, 3) : m ? 'n/a' : '—'}
        </td>
        <td className="py-2 whitespace-nowrap">
          {m ? `${num(m.latencyMs.p50, 0)} / ${num(m.latencyMs.p95, 0)} ms` : '—'}
        </td>
        <td className="py-2">
          {run.status === 'failed' && onRetry && (
            <button
              className="text-xs text-indigo-600 hover:underline"
              disabled={retrying}
              onClick={onRetry}
            >
              Retry
            </button>
          )}
        </td>
      </tr>
      {run.status === 'failed' && run.error && (
        <tr>
          <td />
          <td colSpan={10} className="pb-2 text-xs text-red-600" data-testid="eval-error">
            {run.error}
          </td>
        </tr>
      )}
      {m && (
        <tr>
          <td />
          <td colSpan={10} className="pb-2 text-xs text-slate-500">
            tiers:{' '}
            {Object.entries(m.tiers)
              .map(([t, n]) => `${t} ${n}`)
              .join(', ')}
            {m.samples[0] &&
              ` · e.g. “${m.samples[0].prompt.slice(-60)}” → kept “${m.samples[0].kept}”, candidate “${m.samples[0].candidate}”`}
          </td>
        </tr>
      )}
    </>
  );
}
