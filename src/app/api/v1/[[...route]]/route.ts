import { db } from '~/server/db';
import { createPublicApi } from '~/composition/public-api';

const app = createPublicApi(db);
const handler = (req: Request) => app.fetch(req);

export { handler as GET, handler as POST, handler as PUT, handler as PATCH, handler as DELETE };
