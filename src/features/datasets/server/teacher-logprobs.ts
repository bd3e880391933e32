/**
 * Teacher top-k logprobs for a dataset export (knowledge distillation): each kept completion is
 * scored by the teacher through the OpenAI-compatible API (legacy completions with `echo: true`,
 * `logprobs: k`, `max_tokens: 0`), so any served teacher works. Per completion token the row gets
 * its text, its logprob and the teacher's top-k (texts and logprobs, best first). Logprobs are
 * rounded to 1e-5: well below what training notices, and it keeps the bytes (and the version's
 * digest) stable given the same teacher. Requests go one at a time, so a build stays gentle.
 */
import { z } from 'zod';
import { DomainError } from '~/server/errors';

export interface TeacherColumns {
  teacher_tokens: string[];
  teacher_token_logprobs: number[];
  teacher_top_tokens: string[][];
  teacher_top_logprobs: number[][];
}

export interface TeacherScorer {
  /** Scores `completion` after `prompt`; a token that straddles the two counts as prompt. */
  score(prompt: string, completion: string): Promise<TeacherColumns>;
  /** The teacher as the manifest records it (digest from a Flywheel worker's /health, if any). */
  identity(): Promise<{ model: string; k: number; digest: string | null }>;
}

export const TEACHER_COLUMNS = [
  'teacher_tokens',
  'teacher_token_logprobs',
  'teacher_top_tokens',
  'teacher_top_logprobs',
] as const;

const scoreSchema = z.object({
  choices: z
    .array(
      z.object({
        logprobs: z.object({
          tokens: z.array(z.string()),
          token_logprobs: z.array(z.number().nullable()),
          top_logprobs: z.array(z.record(z.string(), z.number()).nullable()),
          text_offset: z.array(z.number()),
        }),
      }),
    )
    .min(1),
});
const healthSchema = z.object({
  models: z.array(z.object({ id: z.string(), ready: z.boolean(), digest: z.string().nullable() })),
});

const round = (x: number) => Math.round(x * 1e5) / 1e5;

export function openAiTeacher(options: {
  baseUrl: string;
  model: string;
  k: number;
  timeoutMs?: number;
}): TeacherScorer {
  const base = options.baseUrl.replace(/\/$/, '').replace(/\/v1$/, '');
  const unavailable = (why: string) =>
    new DomainError(
      'UNAVAILABLE',
      `The teacher "${options.model}" at ${base} could not score the rows (${why}); build again when it answers`,
    );
  return {
    async score(prompt, completion) {
      let response: Response;
      try {
        response = await fetch(`${base}/v1/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: options.model,
            prompt: prompt + completion,
            echo: true,
            logprobs: options.k,
            max_tokens: 0,
            temperature: 0,
          }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
        });
      } catch (error) {
        throw unavailable(error instanceof Error ? error.message : String(error));
      }
      if (!response.ok)
        throw unavailable(`HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`);
      const parsed = scoreSchema.safeParse(await response.json());
      if (!parsed.success) throw unavailable('its answer has no prompt logprobs (echo)');
      const lp = parsed.data.choices[0]!.logprobs;
      const out: TeacherColumns = {
        teacher_tokens: [],
        teacher_token_logprobs: [],
        teacher_top_tokens: [],
        teacher_top_logprobs: [],
      };
      lp.tokens.forEach((token, j) => {
        if ((lp.text_offset[j] ?? -1) < prompt.length) return;
        const top = Object.entries(lp.top_logprobs[j] ?? {}).sort((a, b) => b[1] - a[1]);
        out.teacher_tokens.push(token);
        out.teacher_token_logprobs.push(round(lp.token_logprobs[j] ?? 0));
        out.teacher_top_tokens.push(top.map(([t]) => t));
        out.teacher_top_logprobs.push(top.map(([, v]) => round(v)));
      });
      return out;
    },
    async identity() {
      const health = await fetch(`${base}/health`, { signal: AbortSignal.timeout(10_000) })
        .then(async (r) => healthSchema.safeParse(await r.json()))
        .catch(() => null);
      const models = health?.success ? health.data.models : [];
      const exact = models.find((m) => m.id === options.model);
      const versions = models
        .filter((m) => m.ready && m.id.startsWith(`${options.model}/`))
        .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
      const found = exact ?? versions.at(-1);
      return { model: options.model, k: options.k, digest: found?.digest ?? null };
    },
  };
}
