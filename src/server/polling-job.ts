/**
 * Runs `tick` every `intervalMs`, never two at once in this process (a slow tick skips rounds
 * instead of piling up); a failed tick is logged and the next round runs. The timer does not keep
 * the process alive. Returns the function that stops it.
 */
export function startPollingJob(
  name: string,
  intervalMs: number,
  tick: () => Promise<unknown>,
): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    tick()
      .catch((error: unknown) => console.error(`${name} failed:`, error))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
