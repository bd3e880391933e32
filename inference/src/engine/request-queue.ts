/** A bounded first-in-first-out queue of waiting requests, with removal by id (cancellation). */
export class RequestQueue<T extends { id: string }> {
  private items: T[] = [];

  constructor(readonly capacity: number) {}

  get length(): number {
    return this.items.length;
  }
  get full(): boolean {
    return this.items.length >= this.capacity;
  }

  /** Adds at the back; false when the queue is full (the caller answers 503). */
  push(item: T): boolean {
    if (this.full) return false;
    this.items.push(item);
    return true;
  }

  peekAll(): readonly T[] {
    return this.items;
  }

  /** Removes and returns the items with these ids, in queue order. */
  take(ids: readonly string[]): T[] {
    const wanted = new Set(ids);
    const taken = this.items.filter((x) => wanted.has(x.id));
    this.items = this.items.filter((x) => !wanted.has(x.id));
    return taken;
  }

  remove(id: string): T | undefined {
    const i = this.items.findIndex((x) => x.id === id);
    if (i < 0) return undefined;
    return this.items.splice(i, 1)[0];
  }
}
