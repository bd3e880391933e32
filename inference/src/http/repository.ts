/**
 * The KServe v2 / Triton model repository extension: list what the repository holds, load
 * (or reload) and unload a model by name without restarting the worker.
 *   POST|GET /v2/repository/index                  body (optional): {ready?: boolean}
 *   POST     /v2/repository/models/<name>/load     body (optional): {parameters?: {precision}}
 *   POST     /v2/repository/models/<name>/unload   body (optional): {parameters?: {...}}
 */
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { ModelNotFoundError } from '../models/registry';
import type { HttpContext } from './context';
import { ApiError, sendJson } from './errors';
import { parseBody } from './schemas';

const indexSchema = z.strictObject({ ready: z.boolean().optional() });

const loadSchema = z.strictObject({
  parameters: z
    .strictObject({
      /** fp32, or int8 (model_int8.onnx where present, else fp32 with the reason on /health). */
      precision: z.enum(['fp32', 'int8']).optional(),
    })
    .optional(),
});

// Triton clients send `unload_dependents`; there are no dependents here, so any is accepted.
const unloadSchema = z.strictObject({ parameters: z.record(z.string(), z.unknown()).optional() });

const notFound = (name: string) =>
  new ApiError(
    404,
    `no model '${name}' in the repository`,
    'invalid_request_error',
    'model_not_found',
  );

export function handleRepositoryIndex(ctx: HttpContext, body: unknown, res: ServerResponse): void {
  const { ready } = parseBody(indexSchema, body ?? {});
  const entries = ctx.registry
    .list()
    .filter((e) => !ready || e.state === 'READY')
    .map((e) => ({
      name: e.name,
      version: String(e.version),
      state: e.state,
      reason: e.reason,
    }));
  sendJson(res, 200, entries);
}

export async function handleRepositoryLoad(
  ctx: HttpContext,
  name: string,
  body: unknown,
  res: ServerResponse,
): Promise<void> {
  const { parameters } = parseBody(loadSchema, body ?? {});
  let failures: string[];
  try {
    failures = await ctx.registry.load(name, parameters?.precision);
  } catch (err) {
    if (err instanceof ModelNotFoundError) throw notFound(name);
    throw err;
  }
  if (failures.length > 0) {
    // The folder's content is what is wrong (truncated weights, bad config): a client error.
    throw new ApiError(
      400,
      `failed to load '${name}': ${failures.join('; ')}`,
      'invalid_request_error',
      'model_load_failed',
    );
  }
  sendJson(res, 200, {});
}

export async function handleRepositoryUnload(
  ctx: HttpContext,
  name: string,
  body: unknown,
  res: ServerResponse,
): Promise<void> {
  parseBody(unloadSchema, body ?? {});
  try {
    await ctx.registry.unload(name);
  } catch (err) {
    if (err instanceof ModelNotFoundError) throw notFound(name);
    throw err;
  }
  sendJson(res, 200, {});
}
