import { auth } from '~/features/auth/server/app-auth';

export const GET = (req: Request) => auth().handler(req);
export const POST = (req: Request) => auth().handler(req);
