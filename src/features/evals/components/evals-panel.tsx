'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { FormEvent } from 'react';
import { buttonClass, Field, formText, inputClass, TextInput } from '~/components/form-fields';
import { useTRPC } from '~/trpc/client';
import { DEFAULT_FEATURE, MAX_SAMPLE } from '../config';
import { OfflineVsOnline } from './offline-vs-online';
import { EvalRunRow } from './eval-run-row';

/** Queue offline evals, follow their progress, read their metrics beside the online ones. */
export function EvalsPanel({ canEdit }: { canEdit: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // Backends' versions are registered a few seconds after start: until one is, ask again.
  const options = useQuery({
    ...trpc.evals.options.queryOptions(),
    refetchInterval: (q) => (q.state.data?.models.length ? false : 5_000),
  });
  const runs = useQuery({
    ...trpc.evals.list.queryOptions({ limit: 50 }),
    // Poll while a run waits or runs: its row shows the progress.
    refetchInterval: (q) =>
      q.state.data?.some((r) => r.status === 'queued' || r.status === 'running') ? 1000 : false,
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.evals.pathKey() });
  const create = useMutation(
    trpc.evals.create.mutationOptions({ onSuccess: () => void refresh() }),
  );
  const retry = useMutation(trpc.evals.retry.mutationOptions({ onSuccess: () => void refresh() }));

  function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const dataset = formText(form, 'dataset');
    create.mutate({
      model: formText(form, 'model'),
      ...(dataset ? { dataset } : { featureId: formText(form, 'featureId') || DEFAULT_FEATURE }),
      sample: Number(formText(form, 'sample')),
      seed: formText(form, 'seed') || '1',
    });
  }

  return (
    <div className="max-w-6xl space-y-8">
      {canEdit && (
        <form
          onSubmit={onCreate}
          aria-label="Queue an eval"
          className="grid grid-cols-5 gap-3 rounded-lg bg-white p-4 ring-1 ring-slate-200"
        >
          <Field label="Candidate model version">
            <select name="model" className={inputClass} required>
              {options.data?.models.map((m) => (
                <option key={m.id} value={m.label}>
                  {m.label}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Prompts">
            <select name="dataset" className={inputClass} defaultValue="">
              <option value="">stored generations with feedback</option>
              {options.data?.datasets.map((d) => (
                <option key={d.ref} value={d.ref}>
                  {d.ref} (eval split, {d.evalRows} rows)
                </option>
              ))}
            </select>
          </Field>
          <Field label="Feature (generations)">
            <select name="featureId" className={inputClass} defaultValue={DEFAULT_FEATURE}>
              {options.data?.features.map((f) => (
                <option key={f}>{f}</option>
              ))}
            </select>
          </Field>
          <Field label="Sample size">
            <TextInput name="sample" type="number" min={1} max={MAX_SAMPLE} defaultValue={50} />
          </Field>
          <Field label="Seed">
            <TextInput name="seed" defaultValue="1" />
          </Field>
          <div className="col-span-5 flex items-center gap-3">
            <button className={buttonClass} disabled={create.isPending}>
              Queue eval
            </button>
            {create.error && (
              <p role="alert" className="text-sm text-red-600">
                {create.error.message}
              </p>
            )}
          </div>
        </form>
      )}

      <section>
        <h2 className="mb-2 text-sm font-semibold text-slate-700">Runs</h2>
        {retry.error && (
          <p role="alert" className="mb-2 text-sm text-red-600">
            {retry.error.message}
          </p>
        )}
        {runs.data?.length === 0 && (
          <p className="text-sm text-slate-500">
            No eval yet. Queue one above, or run{' '}
            <code>npm run eval -- --model name/version --sample 50</code>.
          </p>
        )}
        {runs.data && runs.data.length > 0 && (
          <table className="w-full text-left text-sm" data-testid="eval-runs">
            <thead className="text-xs text-slate-500">
              <tr>
                <th className="py-1">Status</th>
                <th>Candidate</th>
                <th>Prompts</th>
                <th>Progress</th>
                <th title="Exact match of the first word with what the user kept (95 % Wilson)">
                  First word
                </th>
                <th title="Whole suggestion equal to what the user kept (95 % Wilson)">Exact</th>
                <th title="chrF (char 6-grams, β = 2), 0–100, bootstrap 95 %">chrF</th>
                <th title="Normalized edit distance to the kept text (0 = same)">Edit dist.</th>
                <th title="Log-likelihood of the kept text per token (nats)">Log-lik/token</th>
                <th>Latency p50 / p95</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {runs.data.map((run) => (
                <EvalRunRow
                  key={run.id}
                  run={run}
                  onRetry={canEdit ? () => retry.mutate({ id: run.id }) : undefined}
                  retrying={retry.isPending}
                />
              ))}
            </tbody>
          </table>
        )}
      </section>

      <OfflineVsOnline succeeded={runs.data?.filter((r) => r.status === 'succeeded').length ?? 0} />
    </div>
  );
}
