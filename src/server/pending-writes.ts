/**
 * Rows acknowledged to a caller but still on their way to the database (the generation writer's
 * queue). Readers that must see such a row (feedback ingest checking who owns a generation)
 * wait for it here instead of answering "not found" for a row that is about to exist.
 */
const globalForPending = globalThis as unknown as {
  flywheelPendingWrites?: Map<string, Promise<void>>;
};

function pending(): Map<string, Promise<void>> {
  return (globalForPending.flywheelPendingWrites ??= new Map<string, Promise<void>>());
}

/** Registers a write in flight; `done` settles (never rejects) when it is stored or given up. */
export function trackPendingWrite(id: string, done: Promise<void>): void {
  const map = pending();
  map.set(id, done);
  void done.finally(() => {
    if (map.get(id) === done) map.delete(id);
  });
}

/** Waits until none of `ids` is still being written (at most `timeoutMs`). */
export async function awaitPendingWrites(ids: Iterable<string>, timeoutMs = 35_000): Promise<void> {
  const map = pending();
  const waits = [...ids].flatMap((id) => {
    const done = map.get(id);
    return done ? [done] : [];
  });
  if (waits.length === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(waits),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}
