import { EventSourceParserStream } from 'eventsource-parser/stream';
import type { RewriteEvent } from '../rewrite-events';

/** The public API's error envelope, as far as the page reads it. */
export class RewriteRefused extends Error {
  override name = 'RewriteRefused';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads the rewrite endpoint's server-sent events, calling `onEvent` for each. */
export async function readRewriteStream(
  response: Response,
  onEvent: (event: RewriteEvent) => void,
): Promise<void> {
  if (!response.ok || !response.body) {
    const body = (await response.json().catch(() => null)) as {
      error?: { message?: string };
    } | null;
    throw new RewriteRefused(
      response.status,
      body?.error?.message ?? `rewrite failed with ${response.status}`,
    );
  }
  const events = response.body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  for (;;) {
    const { done, value } = await events.read();
    if (done) return;
    onEvent(JSON.parse(value.data) as RewriteEvent);
  }
}
