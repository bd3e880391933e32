'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { formText } from '~/components/form-fields';
import { useTRPC } from '~/trpc/client';

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

/**
 * Per feature: the default model version (what every unit outside an experiment is served; a
 * promotion changes it too) and the holdout. Editors change both; every change is audited.
 */
export function FeatureSettings({ canEdit }: { canEdit: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // Defaults are filled in once the worker's models are registered (shortly after start).
  const features = useQuery({
    ...trpc.experiments.features.queryOptions(),
    refetchInterval: (q) => (q.state.data?.some((f) => !f.defaultVersion) ? 5000 : false),
  });
  const versions = useQuery({
    ...trpc.models.versions.queryOptions(),
    enabled: canEdit,
    refetchInterval: (q) => (q.state.data?.length ? false : 5000),
  });
  const refresh = () =>
    void queryClient.invalidateQueries({ queryKey: trpc.experiments.features.queryKey() });
  const setHoldout = useMutation(
    trpc.experiments.setHoldout.mutationOptions({ onSuccess: refresh }),
  );
  const setDefault = useMutation(
    trpc.experiments.setDefaultVersion.mutationOptions({ onSuccess: refresh }),
  );
  const live = versions.data?.filter((v) => v.status !== 'retired') ?? [];
  const error = setHoldout.error ?? setDefault.error;
  return (
    <section>
      <h2 className="mb-2 text-sm font-semibold text-slate-700">Features</h2>
      <p className="mb-2 text-sm text-slate-500">
        Units outside every experiment, and units in a feature&apos;s holdout (which never enter its
        experiments), get the feature&apos;s default version, then its fallback chain. Promoting an
        arm makes its version the default.
      </p>
      <table className="w-full bg-white text-left text-sm ring-1 ring-slate-200">
        <thead className="bg-slate-50 text-slate-600">
          <tr>
            <th className="p-2">Feature</th>
            <th className="p-2">Default version</th>
            <th className="p-2">Holdout</th>
          </tr>
        </thead>
        <tbody>
          {features.data?.map((f) => (
            <tr key={f.featureId} className="border-t border-slate-100" data-testid="feature-row">
              <td className="p-2">{f.featureId}</td>
              <td className="p-2">
                {canEdit ? (
                  <select
                    className="rounded-md border border-slate-300 px-2 py-1"
                    aria-label={`${f.featureId} default version`}
                    value={f.defaultVersion?.id ?? ''}
                    disabled={setDefault.isPending}
                    onChange={(e) =>
                      e.target.value &&
                      setDefault.mutate({ featureId: f.featureId, modelVersionId: e.target.value })
                    }
                  >
                    {!f.defaultVersion && <option value="">first model of the chain</option>}
                    {f.defaultVersion && !live.some((v) => v.id === f.defaultVersion?.id) && (
                      <option value={f.defaultVersion.id}>{f.defaultVersion.label}</option>
                    )}
                    {live.map((v) => (
                      <option key={v.id} value={v.id}>
                        {v.name}/{v.version} ({v.status})
                      </option>
                    ))}
                  </select>
                ) : (
                  <span data-testid="default-version">
                    {f.defaultVersion?.label ?? 'first model of the chain'}
                  </span>
                )}
                {f.defaultChange && (
                  <p className="mt-1 text-xs text-slate-500" data-testid="default-change">
                    set by {f.defaultChange.by}
                    {f.defaultChange.via ? ` (promotion of ${f.defaultChange.via})` : ''},{' '}
                    {f.defaultChange.at.toLocaleString()}
                  </p>
                )}
              </td>
              <td className="p-2">
                {canEdit ? (
                  <form
                    className="flex items-center gap-2"
                    onSubmit={(e) => {
                      e.preventDefault();
                      const share = Number(formText(new FormData(e.currentTarget), 'share')) / 100;
                      setHoldout.mutate({ featureId: f.featureId, share });
                    }}
                  >
                    <input
                      name="share"
                      type="number"
                      min={0}
                      max={50}
                      step="any"
                      defaultValue={f.share * 100}
                      className="w-20 rounded-md border border-slate-300 px-2 py-1"
                      aria-label={`${f.featureId} holdout %`}
                    />
                    %<button className="text-indigo-600 hover:underline">Save</button>
                  </form>
                ) : (
                  <span>{pct(f.share)}</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {error && (
        <p role="alert" className="text-sm text-red-600">
          {error.message}
        </p>
      )}
    </section>
  );
}
