import { bootstrapAdmin } from '~/features/settings/server/bootstrap-admin';
import { auth } from '~/features/auth/server/app-auth';
import { startRollupJob } from '~/features/dashboards/server/rollup-job';
import { startDatasetJob } from '~/features/datasets/server/dataset-job';
import { startEvalJob } from '~/features/evals/server/eval-job';
import { startGuardrailJob } from '~/features/experiments/server/guardrail-job';
import { startSuggestions } from '~/features/suggestions/server/suggestions-runtime';
import { db } from '~/server/db';
import { env } from '~/server/env';
import { serveBeforeNext } from './before-next';
import { startOutboxDispatcher, startOutboxPruner } from './jobs/outbox-dispatcher';

export async function onServerStart(): Promise<void> {
  const { ADMIN_EMAIL, ADMIN_PASSWORD, DATABASE_URL } = env();
  if (!DATABASE_URL) return; // `next build` and tools without a database
  serveBeforeNext();
  startOutboxDispatcher(db(), env());
  startOutboxPruner(db(), env());
  startGuardrailJob(db(), env().GUARDRAIL_INTERVAL_MS);
  startDatasetJob(db());
  startEvalJob(db());
  startRollupJob(db());
  // Features declared in code → Feature rows; the backends' models → ModelVersion rows.
  await startSuggestions(db()).catch((error: unknown) =>
    console.error('Could not mirror the AI features to the database:', error),
  );
  const created = await bootstrapAdmin(db(), auth(), {
    email: ADMIN_EMAIL,
    password: ADMIN_PASSWORD,
  });
  if (created) {
    console.log(
      `\n  First start: created the admin account\n    email:    ${created.email}\n    password: ${ADMIN_PASSWORD ? '(the ADMIN_PASSWORD you set)' : created.password}\n  This is shown once; change it or add users in Settings → Users.\n`,
    );
  }
}
