import { PageHeader } from '~/components/page-header';
import { requireUser } from '~/features/auth/server/session';
import { ExperimentsPanel } from '~/features/experiments/components/experiments-panel';

export const metadata = { title: 'Experiments · Flywheel' };

export default async function ExperimentsPage() {
  const user = await requireUser('viewer', '/console/experiments');
  return (
    <>
      <PageHeader title="Experiments">
        A/B rollouts of model versions: ramps that advance while every guardrail holds, and roll
        back by themselves when one is crossed.
      </PageHeader>
      <ExperimentsPanel role={user.role} />
    </>
  );
}
