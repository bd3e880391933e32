import { PageHeader } from '~/components/page-header';
import { hasRole } from '~/features/auth/roles';
import { requireUser } from '~/features/auth/server/session';
import { EvalsPanel } from '~/features/evals/components/evals-panel';

export const metadata = { title: 'Evals · Flywheel' };

export default async function EvalsPage() {
  const user = await requireUser('viewer', '/console/evals');
  return (
    <>
      <PageHeader title="Offline evals">
        Score a candidate model version on logged prompts against what users kept: exact match of
        the first word and of the whole suggestion, chrF, edit distance, the log-likelihood of the
        kept text, latency. Runs are seeded and record their config, so a rerun gives the same
        scores; each version&apos;s latest scores sit beside its online acceptance and ARC.
      </PageHeader>
      <EvalsPanel canEdit={hasRole(user.role, 'editor')} />
    </>
  );
}
