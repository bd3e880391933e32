/** The events of the rewrite stream (POST /api/v1/suggestions/rewrite), one per SSE `data:`. */
export type RewriteEvent =
  | { type: 'delta'; text: string }
  /** The answering tier failed mid-way; the next tier's deltas follow from scratch. */
  | { type: 'reset' }
  | {
      type: 'done';
      generationId: string | null;
      tier: string;
      text: string;
      modelVersion: string | null;
    };

export const REWRITE_STREAM_PATH = '/api/v1/suggestions/rewrite';
