/** Server-sent events as the OpenAI streaming contract uses them. */
import type { ServerResponse } from 'node:http';
import { errorBody, toApiError } from './errors';

export class SseWriter {
  private started = false;
  constructor(private readonly res: ServerResponse) {}

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.res.flushHeaders();
  }

  get headersSent(): boolean {
    return this.started;
  }

  send(data: unknown): void {
    this.start();
    if (!this.res.writableEnded && !this.res.destroyed)
      this.res.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  done(): void {
    this.start();
    if (!this.res.writableEnded && !this.res.destroyed) this.res.end('data: [DONE]\n\n');
  }
}

/**
 * A generation failed: before anything was streamed the error propagates (a plain JSON error
 * answer); once the stream has begun it is reported as a last event and the stream ends.
 */
export function failStream(sse: SseWriter | null, err: unknown): void {
  if (!sse?.headersSent) throw err;
  sse.send(errorBody(toApiError(err)));
  sse.done();
}
