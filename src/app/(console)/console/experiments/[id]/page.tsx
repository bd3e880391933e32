import { PageHeader } from '~/components/page-header';
import { requireUser } from '~/features/auth/server/session';
import { ExperimentDetail } from '~/features/experiments/components/experiment-detail';

export const metadata = { title: 'Experiment · Flywheel' };

export default async function ExperimentPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const user = await requireUser('viewer', `/console/experiments/${id}`);
  return (
    <>
      <PageHeader title="Experiment">Ramp, guardrails, results and history.</PageHeader>
      <ExperimentDetail id={id} role={user.role} />
    </>
  );
}
