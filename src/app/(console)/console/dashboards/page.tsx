import { PageHeader } from '~/components/page-header';
import { RecentGenerationsTable } from '~/features/dashboards/components/recent-generations-table';

export const metadata = { title: 'Dashboards · Flywheel' };

export default function DashboardsPage() {
  return (
    <>
      <PageHeader title="Dashboards">
        Acceptance, accepted-and-retained characters, edits after accept, latency and fallback rate
        per model version and arm. Below: the latest suggestions and what people did with them.
      </PageHeader>
      <RecentGenerationsTable />
    </>
  );
}
