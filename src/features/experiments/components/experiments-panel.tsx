'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState, type FormEvent } from 'react';
import { buttonClass, Field, formText, inputClass, TextInput } from '~/components/form-fields';
import { hasRole, type Role } from '~/features/auth/roles';
import { useTRPC } from '~/trpc/client';
import {
  DEFAULT_SEQUENTIAL_TUNING,
  GUARDRAIL_INFO,
  GUARDRAIL_METRICS,
  type GuardrailMetric,
} from '../config';
import { FeatureSettings } from './feature-settings';

export const STATUS_STYLE: Record<string, string> = {
  draft: 'bg-slate-50 text-slate-700 ring-slate-200',
  running: 'bg-emerald-50 text-emerald-700 ring-emerald-200',
  paused: 'bg-amber-50 text-amber-700 ring-amber-200',
  completed: 'bg-indigo-50 text-indigo-700 ring-indigo-200',
  rolled_back: 'bg-red-50 text-red-700 ring-red-200',
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <span
      data-testid="experiment-status"
      className={`rounded-full px-2 py-0.5 text-xs ring-1 ${STATUS_STYLE[status] ?? ''}`}
    >
      {status.replace('_', ' ')}
    </span>
  );
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

/** The experiments list, the features' defaults and holdouts, and (for editors) the form to create one. */
export function ExperimentsPanel({ role }: { role: Role }) {
  const trpc = useTRPC();
  const experiments = useQuery({ ...trpc.experiments.list.queryOptions(), refetchInterval: 5000 });
  const canEdit = hasRole(role, 'editor');
  return (
    <div className="max-w-5xl space-y-8">
      <table className="w-full bg-white text-left text-sm ring-1 ring-slate-200">
        <thead className="bg-slate-50 text-slate-600">
          <tr>
            <th className="p-2">Name</th>
            <th className="p-2">Feature</th>
            <th className="p-2">Status</th>
            <th className="p-2">Coverage</th>
            <th className="p-2">Arms</th>
          </tr>
        </thead>
        <tbody>
          {experiments.data?.map((e) => (
            <tr key={e.id} className="border-t border-slate-100" data-testid="experiment-row">
              <td className="p-2">
                <Link
                  href={`/console/experiments/${e.id}`}
                  className="text-indigo-600 hover:underline"
                >
                  {e.name}
                </Link>
              </td>
              <td className="p-2">{e.featureId}</td>
              <td className="p-2">
                <StatusBadge status={e.status} />
              </td>
              <td className="p-2">
                {e.status === 'running' || e.status === 'paused'
                  ? `${pct(e.coverage)} (step ${e.rampStep + 1} of ${e.ramp.length})`
                  : '–'}
              </td>
              <td className="p-2 text-slate-600">
                {e.arms
                  .map((a) => `${a.name}: ${a.modelVersion.label} (${pct(a.weight)})`)
                  .join(' · ')}
              </td>
            </tr>
          ))}
          {experiments.data?.length === 0 && (
            <tr>
              <td colSpan={5} className="p-4 text-center text-slate-500">
                No experiments yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {canEdit && <CreateExperimentForm />}
      <FeatureSettings canEdit={canEdit} />
    </div>
  );
}

function CreateExperimentForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // Right after start the worker's models are not registered yet: ask again until some are.
  const versions = useQuery({
    ...trpc.models.versions.queryOptions(),
    refetchInterval: (q) => (q.state.data?.length ? false : 5000),
  });
  const features = useQuery(trpc.experiments.features.queryOptions());
  const [treatments, setTreatments] = useState(1);
  const create = useMutation(
    trpc.experiments.create.mutationOptions({
      onSuccess: () =>
        void queryClient.invalidateQueries({ queryKey: trpc.experiments.list.queryKey() }),
    }),
  );
  const live = versions.data?.filter((v) => v.status !== 'retired') ?? [];

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const arms = Array.from({ length: treatments + 1 }, (_, i) => ({
      name: formText(form, `arm-${i}-name`),
      modelVersionId: formText(form, `arm-${i}-version`),
      weight: Number(formText(form, `arm-${i}-weight`)) / 100,
      isControl: i === 0,
    }));
    const minutes = Number(formText(form, 'minMinutes'));
    const units = Number(formText(form, 'minUnits'));
    const ramp = formText(form, 'ramp')
      .split(/[,\s→>]+/)
      .filter(Boolean)
      .map((p) => ({
        coverage: Number(p.replace('%', '')) / 100,
        minDurationMinutes: minutes,
        minUnitsPerArm: units,
      }));
    const guardrails = GUARDRAIL_METRICS.filter((m) => form.get(`guard-${m}`) === 'on').map(
      (m) => ({
        metric: m,
        margin: Number(formText(form, `margin-${m}`) || '0') / 100,
        minUnits: 100,
      }),
    );
    create.mutate({
      featureId: formText(form, 'featureId'),
      name: formText(form, 'name'),
      description: formText(form, 'description'),
      arms,
      ramp,
      guardrails,
      sequentialTuning: Number(formText(form, 'sequentialTuning')),
      // Empty: a random seed (shown on the experiment's page once created).
      seed: formText(form, 'seed').trim() || undefined,
    });
  }

  const evenWeight = Math.floor(100 / (treatments + 1));
  return (
    <form
      onSubmit={onSubmit}
      className="space-y-4 rounded-lg bg-white p-4 ring-1 ring-slate-200"
      data-testid="create-experiment"
    >
      <h2 className="text-sm font-semibold text-slate-700">New experiment</h2>
      <div className="grid grid-cols-2 gap-3">
        <Field label="Feature">
          <select name="featureId" className={inputClass} required>
            {features.data?.map((f) => (
              <option key={f.featureId} value={f.featureId}>
                {f.featureId}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Name">
          <TextInput name="name" required maxLength={120} placeholder="e.g. teacher v4 vs v3" />
        </Field>
      </div>
      <Field label="Description">
        <TextInput name="description" maxLength={2000} />
      </Field>
      <Field label="Guardrail tests tightest at N* units (all arms; about the sample you expect)">
        <TextInput
          name="sequentialTuning"
          type="number"
          min={100}
          defaultValue={DEFAULT_SEQUENTIAL_TUNING}
          required
        />
      </Field>
      <Field label="Assignment seed (optional; the same seed gives every unit the same arm)">
        <TextInput name="seed" placeholder="random" maxLength={100} pattern="[\w.:\-]+" />
      </Field>
      <fieldset className="space-y-2">
        <legend className="text-sm font-medium text-slate-700">
          Arms (the first is control; weights in %, summing to 100)
        </legend>
        {Array.from({ length: treatments + 1 }, (_, i) => (
          <div key={i} className="grid grid-cols-3 gap-3">
            <TextInput
              name={`arm-${i}-name`}
              required
              defaultValue={i === 0 ? 'control' : `treatment${treatments > 1 ? `-${i}` : ''}`}
              aria-label={`Arm ${i + 1} name`}
            />
            <select
              name={`arm-${i}-version`}
              className={inputClass}
              required
              aria-label={`Arm ${i + 1} model version`}
            >
              {live.map((v) => (
                <option key={v.id} value={v.id}>
                  {v.name}/{v.version} ({v.status})
                </option>
              ))}
            </select>
            <TextInput
              name={`arm-${i}-weight`}
              type="number"
              min={0}
              max={100}
              step="any"
              required
              defaultValue={i === 0 ? 100 - evenWeight * treatments : evenWeight}
              aria-label={`Arm ${i + 1} weight`}
            />
          </div>
        ))}
        {treatments < 4 && (
          <button
            type="button"
            className="text-sm text-indigo-600 hover:underline"
            onClick={() => setTreatments((t) => t + 1)}
          >
            Add a treatment
          </button>
        )}
      </fieldset>
      <div className="grid grid-cols-3 gap-3">
        <Field label="Ramp (coverage per step, %)">
          <TextInput name="ramp" defaultValue="5, 25, 50, 100" required />
        </Field>
        <Field label="Minimum minutes per step">
          <TextInput name="minMinutes" type="number" min={0} defaultValue={60} required />
        </Field>
        <Field label="Minimum units per arm per step">
          <TextInput name="minUnits" type="number" min={0} defaultValue={200} required />
        </Field>
      </div>
      <fieldset>
        <legend className="text-sm font-medium text-slate-700">
          Guardrails (roll back automatically when crossed; tolerated harm in points)
        </legend>
        <div className="mt-1 grid grid-cols-2 gap-2">
          {GUARDRAIL_METRICS.map((m: GuardrailMetric) => (
            <label
              key={m}
              className="flex items-center gap-2 text-sm"
              title={GUARDRAIL_INFO[m].description}
            >
              <input type="checkbox" name={`guard-${m}`} defaultChecked />
              <span className="flex-1">{GUARDRAIL_INFO[m].label}</span>
              <input
                name={`margin-${m}`}
                type="number"
                min={0}
                max={100}
                step="any"
                defaultValue={0}
                className="w-20 rounded-md border border-slate-300 px-2 py-1 text-sm"
                aria-label={`${GUARDRAIL_INFO[m].label} margin`}
              />
            </label>
          ))}
        </div>
      </fieldset>
      {create.error && (
        <p role="alert" className="text-sm text-red-600">
          {create.error.message}
        </p>
      )}
      {create.data && (
        <p role="status" className="text-sm text-emerald-700">
          Created{' '}
          <Link className="underline" href={`/console/experiments/${create.data.id}`}>
            {create.data.name}
          </Link>{' '}
          as a draft.
        </p>
      )}
      <button type="submit" className={buttonClass} disabled={create.isPending}>
        Create draft
      </button>
    </form>
  );
}
