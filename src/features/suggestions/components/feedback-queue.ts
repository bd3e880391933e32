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

  /** Sends what is queued; on failure keeps it for the next try. Never throws. */
  async flush(): Promise<void> {
    if (this.sending) return;
    const events = this.read().slice(0, MAX_BATCH);
    if (events.length === 0) return;
    this.sending = true;
    try {
      await this.send({ unitId: this.unitId, events });
      const sent = new Set(events.map((e) => e.clientEventId));
      this.write(this.read().filter((e) => !sent.has(e.clientEventId)));
    } catch {
      // Kept; the next flush retries (the endpoint is idempotent).
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
