/** The parts of a model version's config.json the worker uses (HF-style names). */
import { z } from 'zod';

const tokenIds = z.union([z.number().int(), z.array(z.number().int())]).nullish();

export const modelConfigSchema = z.looseObject({
  model_type: z.string().optional(),
  max_position_embeddings: z.number().int().positive().optional(),
  n_positions: z.number().int().positive().optional(),
  n_ctx: z.number().int().positive().optional(),
  context_length: z.number().int().positive().optional(),
  eos_token_id: tokenIds,
  bos_token_id: tokenIds,
  chat_template: z.string().optional(),
  digest: z.string().optional(),
  vocab_size: z.number().int().positive().optional(),
});

export type RawModelConfig = z.infer<typeof modelConfigSchema>;

export interface ModelConfig {
  contextLength: number;
  eosTokenIds: number[];
  bosTokenId: number | null;
  chatTemplate: string | null;
  digest: string | null;
  vocabSize: number | null;
  raw: RawModelConfig;
}

const asList = (v: number | number[] | null | undefined): number[] =>
  v === null || v === undefined ? [] : Array.isArray(v) ? v : [v];

export function parseModelConfig(json: unknown): ModelConfig {
  const raw = modelConfigSchema.parse(json);
  return {
    contextLength:
      raw.max_position_embeddings ?? raw.n_positions ?? raw.n_ctx ?? raw.context_length ?? 1024,
    eosTokenIds: asList(raw.eos_token_id),
    bosTokenId: asList(raw.bos_token_id)[0] ?? null,
    chatTemplate: raw.chat_template ?? null,
    digest: raw.digest ?? null,
    vocabSize: raw.vocab_size ?? null,
    raw,
  };
}
