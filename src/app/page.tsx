import { redirect } from 'next/navigation';
import { currentUser } from '~/features/auth/server/session';

export const dynamic = 'force-dynamic';

export default async function Home() {
  redirect((await currentUser()) ? '/console' : '/sign-in');
}
