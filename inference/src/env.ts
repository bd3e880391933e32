import path from 'node:path';
import { z } from 'zod';

/** Execution providers the worker knows how to try, in the order given. */
export const EXECUTION_PROVIDERS = ['cuda', 'webgpu', 'cpu'] as const;
export type ExecutionProviderName = (typeof EXECUTION_PROVIDERS)[number];

const intFrom = (min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be an integer in [${min}, ${max}]` });
        return z.NEVER;
      }
      return n;
    });

const providers = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const list = (v ?? EXECUTION_PROVIDERS.join(','))
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== '');
    const bad = list.filter((s) => !(EXECUTION_PROVIDERS as readonly string[]).includes(s));
    if (list.length === 0 || bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a comma-separated list of ${EXECUTION_PROVIDERS.join('|')}`,
      });
      return z.NEVER;
    }
    return list as ExecutionProviderName[];
  });

const schema = z.object({
  WORKER_PORT: intFrom(0, 65535, 8001),
  WORKER_HOST: z.string().min(1).default('127.0.0.1'),
  MODEL_REPOSITORY: z.string().min(1).default('inference/models'),
  WORKER_EXECUTION_PROVIDERS: providers,
  /**
   * onnxruntime intra-op threads per model session; 0 lets onnxruntime choose (one per core).
   * Default 1: on a small shared machine a second spinning thread per model costs more than
   * it gains (measured: median step 5.4 ms with 1 thread vs 15.9 ms with 2 under load).
   */
  WORKER_INTRA_OP_THREADS: intFrom(0, 256, 1),
  /** Sequences decoded together in one step, per model. */
  WORKER_MAX_BATCH: intFrom(1, 256, 16),
  /** Requests waiting for a slot, per model, before new ones get 503. */
  WORKER_MAX_QUEUE: intFrom(0, 100_000, 64),
  /** Bytes of KV cache per model (running sequences plus the prefix cache). */
  WORKER_KV_CACHE_BYTES: intFrom(1 << 20, 2 ** 40, 256 * 1024 * 1024),
  /** Most draft tokens verified per step (0 turns speculative decoding off). */
  WORKER_SPECULATIVE_TOKENS: intFrom(0, 32, 6),
  /** Prompt tokens prefilled per engine step (chunked prefill). */
  WORKER_PREFILL_CHUNK: intFrom(1, 1 << 20, 512),
  /** Largest request body in bytes. */
  WORKER_MAX_BODY_BYTES: intFrom(1024, 64 * 1024 * 1024, 4 * 1024 * 1024),
  /** Open HTTP connections beyond which new sockets are refused. */
  WORKER_MAX_CONNECTIONS: intFrom(1, 1_000_000, 8192),
  WORKER_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /**
   * KV layout of the decoding batch: 'auto' (grouped for exports without a position_ids input,
   * which would otherwise see shifted positions; padded for the rest), 'padded' or 'grouped'.
   */
  WORKER_KV_LAYOUT: z.enum(['auto', 'padded', 'grouped']).default('auto'),
  /** Weights to serve: 'int8' loads model_int8.onnx where a version has one, else fp32. */
  WORKER_PRECISION: z.enum(['fp32', 'int8']).default('fp32'),
  /** Longest wait for in-flight generations when a version is unloaded or replaced (ms). */
  WORKER_UNLOAD_DRAIN_MS: intFrom(0, 3_600_000, 30_000),
  /** OTLP/HTTP base URL: set, the worker exports its spans there; unset, no tracing at all. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** `service.name` of the worker's spans. */
  OTEL_SERVICE_NAME: z.string().min(1).default('flywheel-worker'),
});

export type WorkerEnv = z.infer<typeof schema> & { MODEL_REPOSITORY: string };

/** Reads and validates the worker's environment; throws one line naming the bad variable. */
export function readEnv(source: Record<string, string | undefined> = process.env): WorkerEnv {
  const picked = Object.fromEntries(
    Object.keys(schema.shape).map((k) => [k, source[k] === '' ? undefined : source[k]]),
  );
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    throw new Error(`Invalid environment variable ${name}: ${issue?.message ?? 'invalid value'}`);
  }
  return { ...parsed.data, MODEL_REPOSITORY: path.resolve(parsed.data.MODEL_REPOSITORY) };
}
