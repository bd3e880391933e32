import { PageHeader } from '~/components/page-header';
import { hasRole } from '~/features/auth/roles';
import { requireUser } from '~/features/auth/server/session';
import { DatasetsPanel } from '~/features/datasets/components/datasets-panel';

export const metadata = { title: 'Datasets · Flywheel' };

export default async function DatasetsPage() {
  const user = await requireUser('viewer', '/console/datasets');
  return (
    <>
      <PageHeader title="Datasets">
        Reproducible datasets built from implicit feedback, exported as JSONL in TRL schemas with a
        manifest and a dataset card. A version is a pure function of its definition and watermark.
      </PageHeader>
      <DatasetsPanel canEdit={hasRole(user.role, 'editor')} />
    </>
  );
}
