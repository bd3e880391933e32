import { PageHeader } from '~/components/page-header';

export const metadata = { title: 'Models · Flywheel' };

export default function ModelsPage() {
  return (
    <>
      <PageHeader title="Models">
        Model versions registered for your features appear here.
      </PageHeader>
      <div className="rounded-lg border border-dashed border-slate-300 bg-white p-8 text-center text-sm text-slate-500">
        Nothing here yet.
      </div>
    </>
  );
}
