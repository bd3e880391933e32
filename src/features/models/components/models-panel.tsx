'use client';

import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '~/trpc/client';
import { ModelLineage } from './model-lineage';

const STATE_STYLE: Record<string, string> = {
  closed: 'bg-emerald-50 text-emerald-700 ring-emerald-200',
  half_open: 'bg-amber-50 text-amber-700 ring-amber-200',
  open: 'bg-red-50 text-red-700 ring-red-200',
};
const STATE_LABEL: Record<string, string> = {
  closed: 'healthy (circuit closed)',
  half_open: 'probing (half-open)',
  open: 'failing (circuit open)',
};

/** Inference backends with their circuit state (refreshed every few seconds), then model versions. */
export function ModelsPanel() {
  const trpc = useTRPC();
  const backends = useQuery({ ...trpc.models.backends.queryOptions(), refetchInterval: 3000 });
  const versions = useQuery(trpc.models.versions.queryOptions());

  return (
    <div className="max-w-4xl space-y-8">
      <section>
        <h2 className="mb-2 text-sm font-semibold text-slate-700">Inference backends</h2>
        {backends.data?.length === 0 && (
          <p className="text-sm text-slate-500">
            No backend configured: suggestions come from the n-gram tier. Set INFERENCE_BACKENDS or
            start the worker with <code>npm start</code>.
          </p>
        )}
        <ul className="space-y-2">
          {backends.data?.map((b) => (
            <li key={b.url} className="rounded-lg bg-white p-4 text-sm ring-1 ring-slate-200">
              <div className="flex items-center justify-between gap-3">
                <code className="font-medium">{b.url}</code>
                <span
                  data-testid="circuit-state"
                  className={`rounded-full px-2 py-0.5 text-xs ring-1 ${STATE_STYLE[b.state] ?? ''}`}
                >
                  {STATE_LABEL[b.state] ?? b.state}
                </span>
              </div>
              <p className="mt-1 text-slate-500">
                {b.models ? b.models.join(', ') : 'models not listed yet'} · {b.totalSuccesses} ok ·{' '}
                {b.totalFailures} failed
                {b.consecutiveFailures > 0 && ` (${b.consecutiveFailures} in a row)`}
                {b.retryAt && ` · next probe ${new Date(b.retryAt).toLocaleTimeString()}`}
              </p>
              {b.lastError && (
                <p className="mt-1 text-xs text-red-600">Last error: {b.lastError}</p>
              )}
            </li>
          ))}
        </ul>
      </section>
      <section>
        <h2 className="mb-2 text-sm font-semibold text-slate-700">Model versions</h2>
        {versions.data?.length === 0 && (
          <p className="text-sm text-slate-500">
            None registered yet: versions appear when a backend lists them.
          </p>
        )}
        <table className="w-full text-left text-sm">
          <tbody>
            {versions.data?.map((v) => (
              <tr key={v.id} className="border-t border-slate-100">
                <td className="py-2 font-medium">
                  {v.name}/{v.version}
                  <ModelLineage version={v} />
                </td>
                <td className="py-2 text-slate-500">served as {v.backendModel}</td>
                <td className="py-2 text-slate-500">{v.status}</td>
                <td className="py-2 text-right text-slate-500">
                  {v._count.generations} generations
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
