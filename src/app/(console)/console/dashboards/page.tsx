import { PageHeader } from '~/components/page-header';

export const metadata = { title: 'Dashboards · Flywheel' };

export default function DashboardsPage() {
  return (
    <>
      <PageHeader title="Dashboards">
        Acceptance, accepted-and-retained characters, edits after accept, latency and fallback rate
        per model version and arm appear here.
      </PageHeader>
      <div className="rounded-lg border border-dashed border-slate-300 bg-white p-8 text-center text-sm text-slate-500">
        Nothing here yet.
      </div>
    </>
  );
}
