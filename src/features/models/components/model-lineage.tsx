import { readLineage, shortDigest } from '../lineage';

/** v1 → dataset version → v2 with digests, and how v2 was trained (for a distilled version). */
export function ModelLineage({
  version,
}: {
  version: { name: string; version: string; artifactDigest: string | null; lineage: unknown };
}) {
  const lineage = readLineage(version.lineage);
  if (!lineage) return null;
  const { dataset, teacher, student_init: init, loss } = lineage;
  const step = 'rounded bg-slate-50 px-2 py-1 ring-1 ring-slate-200';
  return (
    <div data-testid="lineage" className="mt-2 space-y-1 text-xs text-slate-600">
      <div className="flex flex-wrap items-center gap-2">
        <span className={step}>
          {init.model ?? init.folder ?? 'student'} <code>{shortDigest(init.digest)}</code>
        </span>
        <span aria-hidden>→</span>
        <span className={step}>
          dataset {dataset.name ?? '?'} v{dataset.version ?? '?'}{' '}
          <code>{shortDigest(dataset.contentDigest)}</code>
        </span>
        <span aria-hidden>→</span>
        <span className={`${step} font-medium text-slate-800`}>
          {version.name}/{version.version} <code>{shortDigest(version.artifactDigest)}</code>
        </span>
      </div>
      <p>
        teacher {teacher.model} <code>{shortDigest(teacher.digest)}</code> ·{' '}
        {loss.beta === 1 ? 'reverse KL' : loss.beta === 0 ? 'forward KL' : `GJSD β=${loss.beta}`}{' '}
        (top-{loss.k}, {loss.mode}) · on-policy {lineage.on_policy}
        {loss.sft_weight ? ` · SFT weight ${loss.sft_weight}` : ''} · seed {lineage.seed} ·{' '}
        {lineage.steps} steps
        {lineage.eval_divergence &&
          ` · eval divergence ${lineage.eval_divergence.before.toFixed(3)} → ${lineage.eval_divergence.after.toFixed(3)}`}
      </p>
    </div>
  );
}
