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

  it('drops only the event the server refuses for good; newer events are not blocked', async () => {
    const storage = new MemoryStorage();
    const stored: string[] = [];
    let requests = 0;
    // The server refuses any batch holding the poisoned event with a 400, like a tRPC client error.
    const send = (batch: FeedbackBatch) => {
      requests++;
      if (batch.events.some((e) => e.payload && 'poison' in e.payload))
        return Promise.reject(Object.assign(new Error('bad'), { data: { httpStatus: 400 } }));
      stored.push(...batch.events.map((e) => e.clientEventId));
      return Promise.resolve();
    };
    const queue = new FeedbackQueue('u', send, () => true, storage);
    for (let i = 0; i < 150; i++) {
      queue.add(
        i === 97
          ? { ...shown, payload: { ...shown.payload, poison: true } as typeof shown.payload }
          : shown,
      );
    }
    await queue.flush();
    expect(queue.size).toBe(0);
    expect(stored).toHaveLength(149);
    expect(new Set(stored).size).toBe(149);
    expect(requests).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(150)) + 2);

    // Later events flow at once.
    queue.add(shown);
    await queue.flush();
    expect(stored).toHaveLength(150);
  });

  it('keeps and retries batches on network errors, 5xx, 401, 403, 408 and 429', async () => {
    for (const failure of [
      new Error('Failed to fetch'),
      ...[500, 502, 503, 401, 403, 408, 429].map((httpStatus) =>
        Object.assign(new Error(String(httpStatus)), { data: { httpStatus } }),
      ),
    ]) {
      const storage = new MemoryStorage();
      let fail = true;
      const sent: FeedbackBatch[] = [];
      const send = (batch: FeedbackBatch) => {
        if (fail) return Promise.reject(failure);
        sent.push(batch);
        return Promise.resolve();
      };
      const queue = new FeedbackQueue('u', send, () => true, storage);
      queue.add(shown);
      queue.add(shown);
      await queue.flush();
      expect(queue.size).toBe(2);
      fail = false;
      await queue.flush();
      expect(sent.flatMap((b) => b.events)).toHaveLength(2);
      expect(queue.size).toBe(0);
    }
  });
});
