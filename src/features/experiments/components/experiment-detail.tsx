'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { hasRole, type Role } from '~/features/auth/roles';
import { useTRPC } from '~/trpc/client';
import { GUARDRAIL_INFO, type ExperimentAction } from '../config';
import type { GuardrailCheck } from '../guardrails';
import { StatusBadge } from './experiments-panel';
import { RampState, type CheckedArm } from './ramp-state';

const pct = (x: number | null | undefined, digits = 1) =>
  x === null || x === undefined ? '–' : `${(x * 100).toFixed(digits)}%`;
const num = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined ? '–' : x.toFixed(digits);

function reasonOf(after: unknown): string | null {
  const reason = (after as { statusReason?: unknown } | null)?.statusReason;
  return typeof reason === 'string' ? reason : null;
}

const RATE_METRICS = new Set([
  'acceptance_rate',
  'acceptance_cuped',
  'dismissal_rate',
  'fallback_rate',
  'latency_p95',
]);

const ACTIONS: Record<ExperimentAction, { label: string; when: string[]; danger?: boolean }> = {
  start: { label: 'Start', when: ['draft'] },
  pause: { label: 'Pause', when: ['running'] },
  advance: { label: 'Ramp up', when: ['running', 'paused'] },
  kill: { label: 'Kill (all traffic to default)', when: ['running', 'paused'], danger: true },
  promote: { label: 'Promote', when: ['running', 'paused'] },
};

/** One experiment: state, ramp, guardrails, actions, results and history. Refreshed every 5 s. */
export function ExperimentDetail({ id, role }: { id: string; role: Role }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const experiment = useQuery({
    ...trpc.experiments.get.queryOptions({ id }),
    refetchInterval: 5000,
  });
  const results = useQuery({
    ...trpc.experiments.results.queryOptions({ id }),
    refetchInterval: 15_000,
  });
  const history = useQuery({
    ...trpc.experiments.history.queryOptions({ id }),
    refetchInterval: 15_000,
  });
  const [promoteArm, setPromoteArm] = useState<string>('');
  const act = useMutation(
    trpc.experiments.act.mutationOptions({
      onSettled: () => void queryClient.invalidateQueries({ queryKey: trpc.experiments.pathKey() }),
    }),
  );
  const e = experiment.data;
  if (experiment.error)
    return (
      <p role="alert" className="text-sm text-red-600">
        {experiment.error.message}
      </p>
    );
  if (!e) return <p className="text-sm text-slate-500">Loading…</p>;
  const canEdit = hasRole(role, 'editor');
  const resumeLabel = e.status === 'paused' ? 'Resume' : ACTIONS.start.label;
  const lastCheck = e.lastCheck as {
    checks?: GuardrailCheck[];
    decision?: { kind: string; note?: string };
    arms?: CheckedArm[];
  } | null;
  const treatments = e.arms.filter((a) => !a.isControl);

  return (
    <div className="max-w-5xl space-y-8">
      <section className="space-y-2 rounded-lg bg-white p-4 text-sm ring-1 ring-slate-200">
        <div className="flex items-center gap-3">
          <StatusBadge status={e.status} />
          <span className="text-slate-600">
            {e.featureId} · version {e.version} · seed <code>{e.seed}</code>
          </span>
        </div>
        {e.statusReason && (
          <p
            data-testid="status-reason"
            className={e.status === 'rolled_back' ? 'text-red-700' : 'text-slate-700'}
          >
            {e.statusReason}
          </p>
        )}
        {e.description && <p className="text-slate-600">{e.description}</p>}
        <ol className="flex flex-wrap gap-2" aria-label="Ramp">
          {e.ramp.map((step, i) => (
            <li
              key={i}
              className={`rounded px-2 py-1 ring-1 ${
                (e.status === 'running' || e.status === 'paused') && i === e.rampStep
                  ? 'bg-indigo-600 text-white ring-indigo-600'
                  : i < e.rampStep
                    ? 'bg-indigo-50 ring-indigo-200'
                    : 'ring-slate-200'
              }`}
            >
              {pct(step.coverage, 0)} · ≥{step.minDurationMinutes} min · ≥{step.minUnitsPerArm}{' '}
              units/arm
            </li>
          ))}
        </ol>
        <RampState
          status={e.status}
          rampStep={e.rampStep}
          steps={e.ramp.length}
          arms={e.arms}
          decision={lastCheck?.decision}
          checked={lastCheck?.arms}
        />
        <p className="text-slate-600">
          Arms:{' '}
          {e.arms
            .map(
              (a) =>
                `${a.name}${a.isControl ? ' (control)' : ''} → ${a.modelVersion.label}, ${pct(a.weight, 0)}`,
            )
            .join(' · ')}
        </p>
        {canEdit && (
          <div className="flex flex-wrap items-center gap-2 pt-2">
            {(Object.keys(ACTIONS) as ExperimentAction[])
              .filter(
                (a) =>
                  ACTIONS[a].when.includes(e.status) || (a === 'start' && e.status === 'paused'),
              )
              .map((action) => (
                <button
                  key={action}
                  type="button"
                  disabled={
                    act.isPending || (action === 'advance' && e.rampStep + 1 >= e.ramp.length)
                  }
                  className={`rounded-md px-3 py-1.5 text-sm font-medium ring-1 disabled:opacity-50 ${
                    ACTIONS[action].danger
                      ? 'bg-red-600 text-white ring-red-600 hover:bg-red-500'
                      : 'bg-white text-slate-800 ring-slate-300 hover:bg-slate-50'
                  }`}
                  onClick={() =>
                    act.mutate({
                      id: e.id,
                      expectedVersion: e.version,
                      action,
                      armId: action === 'promote' && promoteArm ? promoteArm : undefined,
                    })
                  }
                >
                  {action === 'start' ? resumeLabel : ACTIONS[action].label}
                </button>
              ))}
            {(e.status === 'running' || e.status === 'paused') && treatments.length > 1 && (
              <select
                aria-label="Arm to promote"
                value={promoteArm}
                onChange={(ev) => setPromoteArm(ev.target.value)}
                className="rounded-md border border-slate-300 px-2 py-1 text-sm"
              >
                <option value="">arm to promote…</option>
                {treatments.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                  </option>
                ))}
              </select>
            )}
          </div>
        )}
        {act.error && (
          <p role="alert" className="text-red-600">
            {act.error.message}
          </p>
        )}
      </section>

      <section>
        <h2 className="mb-2 text-sm font-semibold text-slate-700">Guardrails</h2>
        <p className="mb-2 text-sm text-slate-500">
          One-sided sequential tests (asymptotic confidence sequences, valid at every look), α{' '}
          {e.alpha} shared by all tests, tightest at N* = {e.sequentialTuning} units. Last check:{' '}
          {e.lastCheckedAt
            ? `${e.lastCheckedAt.toLocaleString()} — ${lastCheck?.decision?.note ?? lastCheck?.decision?.kind ?? ''}`
            : 'not yet'}
        </p>
        <table
          className="w-full bg-white text-left text-sm ring-1 ring-slate-200"
          data-testid="guardrails"
        >
          <thead className="bg-slate-50 text-slate-600">
            <tr>
              <th className="p-2">Metric</th>
              <th className="p-2">Arm</th>
              <th className="p-2">State</th>
              <th className="p-2">Difference</th>
              <th className="p-2">Bound</th>
              <th className="p-2">Margin</th>
              <th className="p-2">n (control / arm)</th>
            </tr>
          </thead>
          <tbody>
            {(lastCheck?.checks ?? []).map((c) => (
              <tr key={`${c.metric}-${c.armId}`} className="border-t border-slate-100">
                <td className="p-2">{GUARDRAIL_INFO[c.metric].label}</td>
                <td className="p-2">{c.arm}</td>
                <td className={`p-2 ${c.status === 'failed' ? 'font-medium text-red-700' : ''}`}>
                  {c.status}
                </td>
                <td className="p-2">{num(c.estimate, 4)}</td>
                <td className="p-2">{num(c.bound, 4)}</td>
                <td className="p-2">{c.margin}</td>
                <td className="p-2">
                  {c.nControl} / {c.nTreatment}
                </td>
              </tr>
            ))}
            {!lastCheck?.checks?.length && (
              <tr>
                <td colSpan={7} className="p-3 text-center text-slate-500">
                  {e.guardrails.map((g) => GUARDRAIL_INFO[g.metric].label).join(', ') ||
                    'No guardrails'}{' '}
                  — checked once the experiment runs.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </section>

      <section>
        <h2 className="mb-2 text-sm font-semibold text-slate-700">Results</h2>
        {results.data && (
          <>
            <p className="mb-2 text-sm" data-testid="verdict">
              <span className="font-semibold">{results.data.verdict.decision}</span> —{' '}
              {results.data.verdict.why}
            </p>
            <table className="w-full bg-white text-left text-sm ring-1 ring-slate-200">
              <thead className="bg-slate-50 text-slate-600">
                <tr>
                  <th className="p-2">Metric</th>
                  {results.data.arms.map((a) => (
                    <th key={a.armId} className="p-2">
                      {a.name}{' '}
                      <span className="font-normal text-slate-500">({a.modelVersion})</span>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                <tr className="border-t border-slate-100">
                  <td className="p-2">Units (exposed / with suggestions)</td>
                  {results.data.arms.map((a) => (
                    <td key={a.armId} className="p-2">
                      {a.exposures} / {a.units}
                    </td>
                  ))}
                </tr>
                <tr className="border-t border-slate-100">
                  <td className="p-2">Suggestions</td>
                  {results.data.arms.map((a) => (
                    <td key={a.armId} className="p-2">
                      {a.suggestions}
                    </td>
                  ))}
                </tr>
                <tr className="border-t border-slate-100">
                  <td className="p-2">Latency p50 / p95 (ms)</td>
                  {results.data.arms.map((a) => (
                    <td key={a.armId} className="p-2">
                      {num(a.latencyP50, 0)} / {num(a.latencyP95, 0)}
                    </td>
                  ))}
                </tr>
                {results.data.arms[0]?.metrics.map((m, row) => (
                  <tr key={m.metric} className="border-t border-slate-100">
                    <td className="p-2">
                      {m.label}
                      {m.goal && <span className="ml-1 text-xs text-indigo-600">goal</span>}
                    </td>
                    {results.data.arms.map((a) => {
                      const cell = a.metrics[row];
                      if (!cell) return <td key={a.armId} />;
                      const f = RATE_METRICS.has(cell.metric)
                        ? (x: number | null) => pct(x)
                        : (x: number | null) => num(x);
                      return (
                        <td key={a.armId} className="p-2">
                          {f(cell.value)}
                          {cell.ci && (
                            <span className="text-xs text-slate-500">
                              {' '}
                              [{f(cell.ci[0])}, {f(cell.ci[1])}]
                            </span>
                          )}
                          {cell.delta !== null && (
                            <div className="text-xs text-slate-600">
                              Δ {f(cell.delta)} [{f(cell.deltaCi?.[0] ?? null)},{' '}
                              {f(cell.deltaCi?.[1] ?? null)}]
                              {cell.adjustedP !== null
                                ? ` · Holm p ${cell.adjustedP.toPrecision(2)}`
                                : cell.pValue !== null
                                  ? ` · p ${cell.pValue.toPrecision(2)}`
                                  : ''}
                            </div>
                          )}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
            <p className="mt-1 text-xs text-slate-500">
              95% intervals; ratio metrics by the delta method (the unit is the user). Δ is against
              control. CUPED: θ {num(results.data.cuped.theta)},{' '}
              {results.data.cuped.unitsWithPrePeriod} units with a pre-period, variance{' '}
              {pct(results.data.cuped.varianceReduction)} lower.
            </p>
          </>
        )}
      </section>

      <section>
        <h2 className="mb-2 text-sm font-semibold text-slate-700">History</h2>
        <ul className="space-y-1 text-sm" data-testid="history">
          {history.data?.map((h) => (
            <li key={h.id} className="rounded bg-white p-2 ring-1 ring-slate-200">
              <span className="text-slate-500">{h.createdAt.toLocaleString()}</span> ·{' '}
              <span className="font-medium">{h.action.replace('experiment.', '')}</span> by{' '}
              {h.actorType === 'system' ? 'the guardrail job' : (h.actor?.email ?? h.actorType)}
              {reasonOf(h.after) && <span className="text-slate-600"> — {reasonOf(h.after)}</span>}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
