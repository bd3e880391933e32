const KEY = 'flywheel.unit-id';

/** A stable anonymous id for this browser: the experiment unit and the owner of its feedback. */
export function browserUnitId(): string {
  try {
    const existing = localStorage.getItem(KEY);
    if (existing) return existing;
    const id = crypto.randomUUID();
    localStorage.setItem(KEY, id);
    return id;
  } catch {
    return crypto.randomUUID();
  }
}
