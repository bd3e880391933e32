/**
 * Incremental detokenizer with stop sequences. Text is released only when it is complete
 * UTF-8 (no trailing U+FFFD) and cannot be the start of a stop sequence; once a stop
 * sequence appears the text is cut before it (or right after it, with `includeStop`) and
 * `stopped` is set.
 */
export class Detokenizer {
  private readonly ids: number[] = [];
  private text = '';
  private released = 0;
  stopped = false;
  /** Tokens consumed up to and including the one that completed a stop sequence. */
  tokenCount = 0;

  constructor(
    private readonly decode: (ids: readonly number[]) => string,
    private readonly stops: readonly string[],
    /** False when nobody reads text before the end and there are no stops: decode once. */
    private readonly incremental = true,
    /** Keep the stop sequence at the end of the text (vLLM's `include_stop_str_in_output`). */
    private readonly options: { includeStop?: boolean } = {},
  ) {}

  /** Adds tokens; returns newly releasable text. */
  push(tokens: readonly number[]): string {
    if (this.stopped) return '';
    if (!this.incremental && this.stops.length === 0) {
      this.ids.push(...tokens);
      this.tokenCount += tokens.length;
      return '';
    }
    let out = '';
    for (const t of tokens) {
      this.ids.push(t);
      this.tokenCount++;
      const text = this.decode(this.ids);
      if (text.endsWith('\uFFFD')) continue;
      this.text = text;
      out += this.release(false);
      if (this.stopped) break;
    }
    return out;
  }

  /** Releases whatever is left at the end of generation. */
  flush(): string {
    if (this.stopped) return '';
    this.text = this.decode(this.ids);
    return this.release(true);
  }

  /** All text released so far. */
  get output(): string {
    return this.text.slice(0, this.released);
  }

  private release(final: boolean): string {
    let end = this.text.length;
    let first = Infinity;
    for (const stop of this.stops) {
      const at = this.text.indexOf(stop, Math.max(0, this.released - stop.length + 1));
      if (at >= 0 && at < first) {
        // The earliest stop wins; text after it (even within the same token) is dropped.
        first = at;
        end = this.options.includeStop ? at + stop.length : at;
        this.stopped = true;
      }
    }
    if (!this.stopped && !final) {
      // Hold back a suffix that could still grow into a stop sequence.
      for (const stop of this.stops) {
        for (let k = Math.min(stop.length - 1, this.text.length); k > 0; k--) {
          if (this.text.endsWith(stop.slice(0, k))) {
            end = Math.min(end, this.text.length - k);
            break;
          }
        }
      }
    }
    if (end <= this.released) return '';
    const delta = this.text.slice(this.released, end);
    this.released = end;
    return delta;
  }
}
