import type { FeedbackEventInput } from '~/features/feedback/events';
import type { LifecycleEvent } from './suggestion-lifecycle';

export type QueuedEvent = FeedbackEventInput;

export interface FeedbackBatch {
  unitId: string;
  events: QueuedEvent[];
}

const STORAGE_KEY = 'flywheel.feedback-queue';
const MAX_QUEUED = 2000;
const MAX_BATCH = 200;
const MAX_REQUESTS_PER_FLUSH = 32;

/** The HTTP status of a failed send (tRPC client errors carry it in `data.httpStatus`). */
function statusOf(error: unknown): number | undefined {
  const e = error as { status?: unknown; data?: { httpStatus?: unknown } } | null;
  const status = e?.data?.httpStatus ?? e?.status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * A 4xx means the server will never take this batch as it is; 401/403 (signed out), 408
 * (timeout) and 429 (rate limit) are about the moment, not the events, so they are retried.
 */
export function isRefusedForGood(error: unknown): boolean {
  const status = statusOf(error);
  return (
    status !== undefined && status >= 400 && status < 500 && ![401, 403, 408, 429].includes(status)
  );
}

/**
 * Lossless delivery of feedback from the page: events get a client-made id (the ingest endpoint
 * drops repeats), wait in localStorage so a reload or a failed request loses nothing, go out in
 * batches, and leave with `sendBeacon` when the page is hidden.
 */
export class FeedbackQueue {
  private sending = false;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly unitId: string,
    private readonly send: (batch: FeedbackBatch) => Promise<void>,
    private readonly beacon: (batch: FeedbackBatch) => boolean,
    private readonly storage: Storage = localStorage,
  ) {}

  private read(): QueuedEvent[] {
    try {
      const parsed: unknown = JSON.parse(this.storage.getItem(STORAGE_KEY) ?? '[]');
      return Array.isArray(parsed) ? (parsed as QueuedEvent[]) : [];
    } catch {
      return [];
    }
  }

  private write(events: QueuedEvent[]) {
    try {
      this.storage.setItem(STORAGE_KEY, JSON.stringify(events.slice(-MAX_QUEUED)));
    } catch {
      // Storage full or disabled: events stay only in this page's memory.
    }
  }

  get size(): number {
    return this.read().length;
  }

  add(event: LifecycleEvent): void {
    this.write([
      ...this.read(),
      { ...event, clientEventId: crypto.randomUUID(), clientTs: new Date().toISOString() },
    ]);
  }

  start(intervalMs = 2000): void {
    this.timer ??= setInterval(() => void this.flush(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Sends what is queued, batch after batch. A network error or a server-side failure keeps the
   * events for the next try. A batch the server refuses for good (a 4xx other than auth, timeout
   * or rate limit) is halved until the refused event is alone, and that event is dropped, so one
   * bad event never blocks the ones behind it. Never throws.
   */
  async flush(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      // While a refused event is being isolated, `size` is the span known to hold it.
      let size = MAX_BATCH;
      for (let requests = 0; requests < MAX_REQUESTS_PER_FLUSH; requests++) {
        const batch = this.read().slice(0, size);
        if (batch.length === 0) return;
        try {
          await this.send({ unitId: this.unitId, events: batch });
        } catch (error) {
          if (!isRefusedForGood(error)) return; // kept; the next flush retries (idempotent)
          if (batch.length > 1) {
            size = Math.ceil(batch.length / 2);
            continue;
          }
          console.warn('feedback: the server refused this event for good; dropping it', batch[0]);
          size = MAX_BATCH;
        }
        const done = new Set(batch.map((e) => e.clientEventId));
        this.write(this.read().filter((e) => !done.has(e.clientEventId)));
      }
    } finally {
      this.sending = false;
    }
  }

  /** Page hide: hand the queue to the browser. Events stay stored until a flush confirms them. */
  flushWithBeacon(): void {
    const events = this.read().slice(0, MAX_BATCH);
    if (events.length) this.beacon({ unitId: this.unitId, events });
  }
}
