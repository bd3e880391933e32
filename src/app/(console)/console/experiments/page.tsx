import { PageHeader } from '~/components/page-header';

export const metadata = { title: 'Experiments · Flywheel' };

export default function ExperimentsPage() {
  return (
    <>
      <PageHeader title="Experiments">
        A/B rollouts of model versions, with ramps and guardrails, appear here.
      </PageHeader>
      <div className="rounded-lg border border-dashed border-slate-300 bg-white p-8 text-center text-sm text-slate-500">
        Nothing here yet.
      </div>
    </>
  );
}
