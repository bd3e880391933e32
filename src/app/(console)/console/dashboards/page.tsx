import { PageHeader } from '~/components/page-header';
import { DashboardPanel } from '~/features/dashboards/components/dashboard-panel';
import { RecentGenerationsTable } from '~/features/dashboards/components/recent-generations-table';

export const metadata = { title: 'Dashboards · Flywheel' };

export default function DashboardsPage() {
  return (
    <>
      <PageHeader title="Dashboards">
        How suggestions serve people, per feature, model version, experiment arm and time:
        acceptance, accepted-and-retained characters, edits after accept, latency, fallback tiers.
        Below: the latest suggestions and what people did with them.
      </PageHeader>
      <DashboardPanel />
      <h2 className="mt-10 mb-2 text-lg font-medium">Latest suggestions</h2>
      <RecentGenerationsTable />
    </>
  );
}
