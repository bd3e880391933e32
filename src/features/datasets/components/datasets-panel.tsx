'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { buttonClass, Field, formText, inputClass, TextInput } from '~/components/form-fields';
import { useTRPC } from '~/trpc/client';
import { DATASET_FORMATS, DATASET_OUTCOMES, type DatasetFormat } from '../definition';
import { DatasetVersions } from './dataset-versions';

const STATUS_STYLE: Record<string, string> = {
  queued: 'bg-slate-50 text-slate-700 ring-slate-200',
  running: 'bg-amber-50 text-amber-700 ring-amber-200',
  succeeded: 'bg-emerald-50 text-emerald-700 ring-emerald-200',
  failed: 'bg-red-50 text-red-700 ring-red-200',
};

/** Define datasets, build versions (live progress), list versions with digests, preview, download. */
export function DatasetsPanel({ canEdit }: { canEdit: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const features = useQuery(trpc.datasets.features.queryOptions());
  const datasets = useQuery({
    ...trpc.datasets.list.queryOptions(),
    // Poll while a build is waiting or running: the row shows its progress.
    refetchInterval: (q) =>
      q.state.data?.some((d) => ['queued', 'running'].includes(d.latestBuild?.status ?? ''))
        ? 1500
        : false,
  });
  const [open, setOpen] = useState<string | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.datasets.pathKey() });
  const create = useMutation(
    trpc.datasets.create.mutationOptions({ onSuccess: () => void refresh() }),
  );
  const build = useMutation(
    trpc.datasets.requestBuild.mutationOptions({ onSuccess: () => void refresh() }),
  );

  function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const number = (name: string, fallback: number) => {
      const v = Number(formText(form, name));
      return formText(form, name) === '' || Number.isNaN(v) ? fallback : v;
    };
    const list = (name: string) =>
      formText(form, name)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    create.mutate({
      name: formText(form, 'name'),
      definition: {
        featureId: formText(form, 'featureId'),
        format: form.get('format') as DatasetFormat,
        seed: formText(form, 'seed'),
        modelVersionIds: list('modelVersionIds'),
        outcomes: form.getAll('outcomes') as (typeof DATASET_OUTCOMES)[number][],
        minRetention: number('minRetention', 0),
        samplingRate: number('samplingRate', 1),
        evalFraction: number('evalFraction', 0.1),
        primaryOnly: form.get('primaryOnly') === 'on',
        ...(formText(form, 'teacherModel')
          ? { teacherLogprobs: { model: formText(form, 'teacherModel'), k: number('teacherK', 5) } }
          : {}),
      },
    });
  }

  return (
    <div className="max-w-5xl space-y-8">
      <section>
        <h2 className="mb-2 text-sm font-semibold text-slate-700">Features and training data</h2>
        <ul className="flex flex-wrap gap-2 text-sm">
          {features.data?.map((f) => (
            <li key={f.id} className="rounded-md bg-white px-3 py-1 ring-1 ring-slate-200">
              <code>{f.id}</code>{' '}
              <span className={f.trainingData ? 'text-emerald-700' : 'text-slate-500'}>
                training data {f.trainingData ? 'on' : 'off'}
              </span>
            </li>
          ))}
        </ul>
      </section>

      {canEdit && (
        <form
          onSubmit={onCreate}
          className="grid grid-cols-3 gap-3 rounded-lg bg-white p-4 ring-1 ring-slate-200"
        >
          <Field label="Name">
            <TextInput name="name" required placeholder="inline-kto" />
          </Field>
          <Field label="Feature">
            <select name="featureId" className={inputClass}>
              {features.data
                ?.filter((f) => f.trainingData)
                .map((f) => (
                  <option key={f.id}>{f.id}</option>
                ))}
            </select>
          </Field>
          <Field label="Format (TRL)">
            <select name="format" className={inputClass}>
              {DATASET_FORMATS.map((f) => (
                <option key={f}>{f}</option>
              ))}
            </select>
          </Field>
          <Field label="Seed">
            <TextInput name="seed" required defaultValue="1" />
          </Field>
          <Field label="Eval share (by unit)">
            <TextInput
              name="evalFraction"
              type="number"
              step="0.01"
              min="0"
              max="0.9"
              defaultValue="0.1"
            />
          </Field>
          <Field label="Sampling rate">
            <TextInput
              name="samplingRate"
              type="number"
              step="0.01"
              min="0.01"
              max="1"
              defaultValue="1"
            />
          </Field>
          <Field label="Min retention (accepts)">
            <TextInput
              name="minRetention"
              type="number"
              step="0.05"
              min="0"
              max="1"
              defaultValue="0"
            />
          </Field>
          <Field label="Model version ids (comma, empty = all)">
            <TextInput name="modelVersionIds" />
          </Field>
          <Field label="Teacher logprobs: model (prompt-completion; empty = none)">
            <TextInput name="teacherModel" placeholder="flywheel-teacher" />
          </Field>
          <Field label="Teacher top-k">
            <TextInput name="teacherK" type="number" min="1" max="20" defaultValue="5" />
          </Field>
          <fieldset className="text-sm">
            <legend className="mb-1 text-slate-700">Outcomes (none = all)</legend>
            {DATASET_OUTCOMES.map((o) => (
              <label key={o} className="mr-3 inline-flex items-center gap-1">
                <input type="checkbox" name="outcomes" value={o} /> {o}
              </label>
            ))}
            <label className="mt-1 flex items-center gap-1">
              <input type="checkbox" name="primaryOnly" defaultChecked /> primary tier only
            </label>
          </fieldset>
          <div className="col-span-3 flex items-center gap-3">
            <button className={buttonClass} disabled={create.isPending}>
              Define dataset
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
        <h2 className="mb-2 text-sm font-semibold text-slate-700">Datasets</h2>
        {datasets.data?.length === 0 && <p className="text-sm text-slate-500">None defined yet.</p>}
        {build.error && (
          <p role="alert" className="mb-2 text-sm text-red-600">
            {build.error.message}
          </p>
        )}
        <ul className="space-y-2">
          {datasets.data?.map((d) => (
            <li key={d.id} className="rounded-lg bg-white p-4 text-sm ring-1 ring-slate-200">
              <div className="flex items-center justify-between gap-3">
                <button
                  className="font-medium text-indigo-600 hover:underline"
                  onClick={() => setOpen(open === d.name ? null : d.name)}
                >
                  {d.name}
                </button>
                <span className="text-slate-500">
                  {d.featureId} · {d.format}
                  {d.latestVersion &&
                    ` · v${d.latestVersion.version} ${d.latestVersion.contentDigest.slice(0, 12)}… ${d.latestVersion.rowCount} rows`}
                </span>
                {d.latestBuild && (
                  <span
                    className={`rounded-full px-2 py-0.5 text-xs ring-1 ${STATUS_STYLE[d.latestBuild.status] ?? ''}`}
                  >
                    build {d.latestBuild.status}
                    {d.latestBuild.status === 'running' && ` · ${d.latestBuild.rowsScanned} read`}
                  </span>
                )}
                {canEdit && (
                  <button
                    className={buttonClass}
                    disabled={build.isPending}
                    onClick={() => build.mutate({ dataset: d.name })}
                  >
                    Build
                  </button>
                )}
              </div>
              {d.latestBuild?.status === 'failed' && (
                <p className="mt-1 text-xs text-red-600">{d.latestBuild.error}</p>
              )}
              {open === d.name && <DatasetVersions dataset={d.name} />}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
