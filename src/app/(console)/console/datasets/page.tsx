import { PageHeader } from '~/components/page-header';

export const metadata = { title: 'Datasets · Flywheel' };

export default function DatasetsPage() {
  return (
    <>
      <PageHeader title="Datasets">
        Datasets built from implicit feedback, exported as JSONL in TRL schemas, appear here.
      </PageHeader>
      <div className="rounded-lg border border-dashed border-slate-300 bg-white p-8 text-center text-sm text-slate-500">
        Nothing here yet.
      </div>
    </>
  );
}
