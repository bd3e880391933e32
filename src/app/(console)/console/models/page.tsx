import { PageHeader } from '~/components/page-header';
import { ModelsPanel } from '~/features/models/components/models-panel';

export const metadata = { title: 'Models · Flywheel' };

export default function ModelsPage() {
  return (
    <>
      <PageHeader title="Models">
        Model versions registered for your features appear here.
      </PageHeader>
      <ModelsPanel />
    </>
  );
}
