/** Memory bandwidth from a large TypedArray copy (bytes read + written per second). */
export function measureBandwidth(bytes = 256 * 1024 * 1024, repeats = 5): number {
  const src = new Float64Array(bytes / 8).fill(1);
  const dst = new Float64Array(bytes / 8);
  dst.set(src); // touch pages
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    dst.set(src);
    best = Math.min(best, performance.now() - t);
  }
  return (2 * bytes) / (best / 1000);
}
