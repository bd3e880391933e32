import type { EditorView, ViewUpdate } from '@codemirror/view';
import { ghostState, showSuggestion, suggestionEdit } from './ghost-text';

export interface CompletionResult {
  generationId: string | null;
  text: string;
  tier: string;
  /** The server's own time for the suggestion (the gateway's), reported with the timings. */
  latencyMs?: number;
}

export type RequestCompletion = (
  input: { textBefore: string; textAfter: string },
  signal: AbortSignal,
) => Promise<CompletionResult>;

export const DEBOUNCE_MS = 150;
// The request's limits; the prompt uses far less context than this anyway.
const MAX_BEFORE = 8000;
const MAX_AFTER = 2000;

/**
 * Debounced suggestion requests. Every user edit aborts the request in flight (the abort travels
 * to the app and on to the worker), and a response is shown only if the text and cursor are
 * still what it was asked for. Failures are silent: no suggestion.
 */
export class InlineCompletion {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: AbortController | null = null;

  constructor(
    private readonly request: RequestCompletion,
    private readonly onPainted: (generationId: string, responseAt: number) => void,
    private readonly debounceMs = DEBOUNCE_MS,
  ) {}

  cancel(): void {
    clearTimeout(this.timer);
    this.inFlight?.abort();
    this.inFlight = null;
  }

  /** Call from the editor's update listener. */
  onUpdate(update: ViewUpdate): void {
    const typed =
      update.docChanged && !update.transactions.some((tr) => tr.annotation(suggestionEdit));
    if (typed || update.selectionSet) this.cancel();
    if (typed) this.timer = setTimeout(() => void this.ask(update.view), this.debounceMs);
  }

  private async ask(view: EditorView): Promise<void> {
    const { state } = view;
    const cursor = state.selection.main;
    if (!cursor.empty || state.field(ghostState).active) return;
    const textBefore = state.sliceDoc(Math.max(0, cursor.head - MAX_BEFORE), cursor.head);
    if (!textBefore.trim()) return;
    const controller = new AbortController();
    this.inFlight = controller;
    const requestAt = performance.now();
    try {
      const result = await this.request(
        { textBefore, textAfter: state.sliceDoc(cursor.head, cursor.head + MAX_AFTER) },
        controller.signal,
      );
      const responseAt = performance.now();
      const now = view.state;
      if (
        controller.signal.aborted ||
        now.doc !== state.doc ||
        now.selection.main.head !== cursor.head
      )
        return;
      const { generationId, text, tier } = result;
      if (!text) return;
      // A suggestion the server could not record (generationId null) is shown without feedback.
      view.dispatch({
        effects: showSuggestion.of({ generationId, tier, pos: cursor.head, original: text }),
      });
      requestAnimationFrame(() => {
        // Where the time went (read by bench:suggest): the request, the server's gateway, the
        // frame that paints it.
        const paintedAt = performance.now();
        performance.measure('suggest:request-to-paint', { start: requestAt, end: paintedAt });
        performance.measure('suggest:request-to-response', { start: requestAt, end: responseAt });
        performance.measure('suggest:response-to-paint', { start: responseAt, end: paintedAt });
        performance.mark('suggest:gateway', { detail: result.latencyMs ?? null });
        if (generationId) this.onPainted(generationId, responseAt);
      });
    } catch {
      // Aborted or failed: the user simply gets no suggestion.
    } finally {
      if (this.inFlight === controller) this.inFlight = null;
    }
  }
}
