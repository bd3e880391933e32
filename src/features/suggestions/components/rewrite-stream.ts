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

/** Reads the rewrite endpoint's server-sent events, calling `onEvent` for each. */
export async function readRewriteStream(
  response: Response,
  onEvent: (event: RewriteEvent) => void,
): Promise<void> {
  if (!response.ok || !response.body) throw new Error(`rewrite failed with ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += value;
    let boundary: number;
    while ((boundary = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const data = frame
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (data) onEvent(JSON.parse(data) as RewriteEvent);
    }
  }
}
