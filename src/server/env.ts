import { z } from 'zod';

// All configuration of the web app is read and validated here, once, at start-up.
const booleanFlag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const postgresUrl = z
  .string()
  .url()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must start with postgres:// or postgresql://');

const serverEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** Debian's PostgreSQL binaries, for throwaway clusters (tests, `db:migration:create`). */
  PG_BIN_DIR: z.string().min(1).default('/usr/lib/postgresql/15/bin'),
  /** `db:migration:create` replays the migration history here (default: a throwaway cluster). */
  SHADOW_DATABASE_URL: postgresUrl.optional(),
  /** Print the WebAssembly schema engine's log (migration debugging). */
  PRISMA_ENGINE_DEBUG: booleanFlag.default(false),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /** Public URL of the app (used by auth for redirects and cookies). */
  APP_URL: z.string().url().optional(),
  /** A PostgreSQL server; without it the app runs on the embedded PostgreSQL. */
  DATABASE_URL: postgresUrl.optional(),
  /** Where the embedded PostgreSQL keeps its data (default DEFAULT_EMBEDDED_DATABASE_DIR). */
  EMBEDDED_DATABASE_DIR: z.string().min(1).optional(),
  /** Port of the embedded PostgreSQL on 127.0.0.1 (default: a free port). */
  EMBEDDED_DATABASE_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /**
   * A PGlite folder written by a release before the embedded PostgreSQL (default `.data/pglite`),
   * imported once into the embedded PostgreSQL. Setting it requires EMBEDDED_DATABASE_DIR.
   */
  PGLITE_DATA_DIR: z.string().min(1).optional(),
  /** Session signing secret (≥ 32 chars). Generated and kept in .data/ when absent. */
  BETTER_AUTH_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** First admin account, created on first start when the database has no users. */
  ADMIN_EMAIL: z.string().email().default('admin@flywheel.local'),
  ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  /** Comma-separated OpenAI-compatible base URLs (our worker, vLLM, TGI, llama.cpp…). */
  INFERENCE_BACKENDS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().url())),
  /** Consecutive failures (timeouts, 5xx, refused connections) that open a backend's circuit. */
  SUGGEST_BREAKER_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  /** How long an open circuit waits before one probe request may try the backend again. */
  SUGGEST_BREAKER_COOLDOWN_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  /** Start the in-repo inference worker with the app (npm start). */
  START_WORKER: booleanFlag.default(true),
  WORKER_PORT: z.coerce.number().int().min(1).max(65535).default(8001),
  POSTHOG_API_KEY: z.string().min(1).optional(),
  POSTHOG_HOST: z.string().url().optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  /** Pause of the outbox dispatcher (PostHog/OTel copies) between rounds that found nothing. */
  OUTBOX_DISPATCH_INTERVAL_MS: z.coerce.number().int().min(50).max(600_000).default(2000),
  /**
   * How far in the past a dataset version's (or an eval's) watermark must lie: generations are
   * stored by a batching writer that retries for up to 30 s while the database is unreachable, so
   * the newest seconds may still fill in. Shorter than that only where the writer is known to keep
   * up (the closed-loop demo's --quick mode on one machine): a late row could change a version.
   */
  DATASET_WATERMARK_SETTLE_MS: z.coerce.number().int().min(1000).max(86_400_000).default(120_000),
  /** How often each live experiment's guardrails are checked (and its ramp advanced). */
  GUARDRAIL_INTERVAL_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  /** Outbox rows claimed and sent in one request per sink and round. */
  OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  /** Delivered outbox rows are deleted after this many hours. */
  OUTBOX_RETENTION_HOURS: z.coerce
    .number()
    .min(0)
    .max(24 * 365)
    .default(24),
  /** Generations acknowledged but not yet stored, at most; beyond, suggestions say `recorded: false`. */
  GENERATION_QUEUE_CAPACITY: z.coerce.number().int().min(1).max(1_000_000).default(20_000),
  /** Generations stored per unit (end user) and minute, at most; the rest answer unrecorded. */
  GENERATIONS_PER_UNIT_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(240),
  /** Requests per minute to the end-user endpoints (suggestions, feedback), per client address. */
  RATE_LIMIT_PER_IP_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(3000),
  /** The same per unit id, and per signed-in user. */
  RATE_LIMIT_PER_UNIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(1200),
  /** Sign-in attempts per client address and minute (slows password guessing). */
  SIGN_IN_ATTEMPTS_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(10),
  /** Proxies in front of the app whose X-Forwarded-For entries are trusted (0: none). */
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  /** Let people who are not signed in use /write and the end-user endpoints. */
  ALLOW_ANONYMOUS_WRITE: booleanFlag.default(false),
});

export type ServerEnv = z.infer<typeof serverEnvSchema>;

export const DEFAULT_EMBEDDED_DATABASE_DIR = '.data/postgres';

// Releases before the embedded PostgreSQL read PGLITE_DATA_DIR as their data folder. It now names
// the PGlite folder to import from; where the new data goes must then be said too, or a folder on
// a mounted volume would be imported into `.data/postgres` of the working directory.
const checkedServerEnvSchema = serverEnvSchema.superRefine((env, ctx) => {
  if (env.PGLITE_DATA_DIR && !env.DATABASE_URL && !env.EMBEDDED_DATABASE_DIR)
    ctx.addIssue({
      code: 'custom',
      path: ['PGLITE_DATA_DIR'],
      message:
        'the embedded database is now PostgreSQL: set EMBEDDED_DATABASE_DIR to the folder for its data ' +
        '(e.g. next to the PGlite folder); the PGlite data in PGLITE_DATA_DIR is then imported into it on start',
    });
});

export class EnvError extends Error {
  override name = 'EnvError';
}

/** Parses the environment; the error names each bad variable on one line. */
export function loadServerEnv(source: Record<string, string | undefined> = process.env): ServerEnv {
  // An empty value means "not set", as in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''));
  const result = checkedServerEnvSchema.safeParse(cleaned);
  if (result.success) return result.data;
  const lines = result.error.issues.map(({ path: [name, ...rest], message }) => {
    const where = rest.length ? ` (item ${rest.map((p) => Number(p) + 1).join('.')})` : '';
    return `Invalid environment variable ${String(name)}${where}: ${message}`;
  });
  throw new EnvError(lines.join('\n'));
}

let cached: ServerEnv | undefined;
/** The validated environment of this process. */
export function env(): ServerEnv {
  cached ??= loadServerEnv();
  return cached;
}

/** The environment handed to a child process, with some variables set. */
export function childEnvironment(overrides: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...overrides };
}
