import { describe, expect, it } from 'vitest';
import { FeedbackQueue, type FeedbackBatch } from './feedback-queue';

class MemoryStorage implements Storage {
  private items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(i: number) {
    return [...this.items.keys()][i] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

const shown = {
  generationId: 'g1',
  type: 'shown',
  payload: { gateMs: 750, responseToShownMs: 3 },
} as const;

describe('FeedbackQueue', () => {
  it('keeps events through a failed send and a reload, then sends each once', async () => {
    const storage = new MemoryStorage();
    const sent: FeedbackBatch[] = [];
    let up = false;
    const send = (batch: FeedbackBatch) => {
      if (!up) return Promise.reject(new Error('offline'));
      sent.push(batch);
      return Promise.resolve();
    };
    const first = new FeedbackQueue('unit-1', send, () => true, storage);
    first.add(shown);
    first.add({ ...shown, type: 'dismissed', payload: { shownToDecisionMs: 900 } });
    await first.flush();
    expect(first.size).toBe(2);

    // The page reloads: a new queue over the same storage finds the events.
    up = true;
    const second = new FeedbackQueue('unit-1', send, () => true, storage);
    await second.flush();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.events.map((e) => e.type)).toEqual(['shown', 'dismissed']);
    expect(new Set(sent[0]!.events.map((e) => e.clientEventId)).size).toBe(2);
    expect(second.size).toBe(0);
    await second.flush();
    expect(sent).toHaveLength(1);
  });

  it('hands the queue to the beacon on page hide but keeps it until a send confirms', async () => {
    const storage = new MemoryStorage();
    const beaconed: FeedbackBatch[] = [];
    const queue = new FeedbackQueue(
      'u',
      () => Promise.resolve(),
      (b) => beaconed.push(b) > 0,
      storage,
    );
    queue.add(shown);
    queue.flushWithBeacon();
    expect(beaconed[0]?.events).toHaveLength(1);
    // The retry after the next load carries the same client id, so the server stores it once.
    expect(queue.size).toBe(1);
    await queue.flush();
    expect(queue.size).toBe(0);
  });
});
