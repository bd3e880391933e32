import { PageHeader } from '~/components/page-header';

export default function ForbiddenPage() {
  return (
    <PageHeader title="Not allowed">
      Your role does not open this page. Ask an admin for a higher role.
    </PageHeader>
  );
}
