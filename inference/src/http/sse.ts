/** Server-sent events as the OpenAI streaming contract uses them. */
import type { ServerResponse } from 'node:http';

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
