import {
  DEFAULT_VISIBILITY_GATE_MS,
  MAX_REPORTED_TEXT_CHARS,
  RETENTION_WINDOW_MS,
  type FeedbackEventInput,
  type RetentionWindow,
} from '~/features/feedback/events';
import { normalizedEditDistance, retainedChars } from '~/lib/edit-distance';
import type { EndedSuggestion } from './ghost-text';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A feedback event before the queue stamps it with its id and time. */
export type LifecycleEvent = DistributiveOmit<FeedbackEventInput, 'clientEventId' | 'clientTs'>;

export interface Span {
  from: number;
  to: number;
}

type TimedWindow = { window: Exclude<RetentionWindow, 'submit'>; ms: number };
const RETENTION_WINDOWS: TimedWindow[] = Object.entries(RETENTION_WINDOW_MS).map(
  ([window, ms]) => ({
    window: window as TimedWindow['window'],
    ms,
  }),
);

interface Visible {
  generationId: string;
  responseAt: number;
  paintedAt: number;
  shown: boolean;
  timer: ReturnType<typeof setTimeout>;
}

/** A dismissed or ignored suggestion whose place is watched for what the user types instead. */
interface Pending {
  event: LifecycleEvent;
  span: Span;
  maxChars: number;
  timer: ReturnType<typeof setTimeout>;
}

/** How long after a dismiss or ignore the text typed at the suggestion's place is collected. */
export const TYPED_INSTEAD_WINDOW_MS = 10_000;
/** Characters beyond the suggestion's length that are still collected. */
export const TYPED_INSTEAD_MARGIN_CHARS = 20;

interface Tracked {
  generationId: string;
  accepted: string;
  span: Span;
  timers: ReturnType<typeof setTimeout>[];
}

/**
 * What happens to each suggestion after it is painted: the visibility gate (a suggestion counts as
 * shown only after `gateMs` on screen), the decision and its timing, and, after an accept, how much
 * of the accepted text survives at fixed windows and on submit. Knows nothing of the editor: it is
 * told about paints, endings and document changes, and reads text through `textAt`.
 */
export class SuggestionLifecycle {
  private visible: Visible | null = null;
  private tracked: Tracked[] = [];
  private pending: Pending[] = [];

  constructor(
    private readonly options: {
      report: (event: LifecycleEvent) => void;
      textAt: (span: Span) => string;
      gateMs?: number;
      windows?: readonly TimedWindow[];
      /**
       * The feature's `trainingData` is on: report the retained text at each window, and the text
       * typed instead of a dismissed or ignored suggestion (its decision is then reported once
       * that window closes, or at submit, page hide or dispose).
       */
      captureText?: boolean;
      typedWindowMs?: number;
      now?: () => number;
    },
  ) {}

  private get gateMs() {
    return this.options.gateMs ?? DEFAULT_VISIBILITY_GATE_MS;
  }
  private now() {
    return this.options.now?.() ?? performance.now();
  }

  /** The ghost text for `generationId` is on screen. */
  painted(generationId: string, responseAt: number): void {
    this.cancelVisible();
    const paintedAt = this.now();
    const visible: Visible = {
      generationId,
      responseAt,
      paintedAt,
      shown: false,
      timer: setTimeout(() => this.reportShown(visible, this.gateMs), this.gateMs),
    };
    this.visible = visible;
  }

  private reportShown(visible: Visible, visibleMs: number) {
    if (visible.shown) return;
    visible.shown = true;
    this.options.report({
      generationId: visible.generationId,
      type: 'shown',
      payload: {
        gateMs: this.gateMs,
        visibleMs: Math.round(visibleMs),
        responseToShownMs: Math.round(visible.paintedAt - visible.responseAt),
      },
    });
  }

  private cancelVisible() {
    if (this.visible) clearTimeout(this.visible.timer);
    this.visible = null;
  }

  /** The suggestion ended; `acceptedText` is the accepted span's text right after the accept. */
  ended(ended: EndedSuggestion, acceptedText: string | null): void {
    const visible = this.visible;
    const generationId = ended.suggestion.generationId;
    if (!visible || !generationId || visible.generationId !== generationId) return;
    this.cancelVisible();
    const onScreenMs = this.now() - visible.paintedAt;
    const tookIt =
      ended.outcome === 'accepted' ||
      ended.outcome === 'accepted_partial' ||
      ended.outcome === 'typed_through';
    // Dropped before the gate: never counted as shown, so no outcome either.
    if (!visible.shown && !tookIt) return;
    if (!visible.shown) this.reportShown(visible, onScreenMs);
    const decision: LifecycleEvent = {
      generationId,
      type: ended.outcome,
      payload: {
        shownToDecisionMs: Math.round(onScreenMs),
        suggestedChars: ended.suggestion.original.length,
        acceptedChars: ended.suggestion.acceptedChars,
        typedChars: ended.suggestion.typedChars,
      },
    };
    if (this.options.captureText && !tookIt) this.watchTypedInstead(decision, ended);
    else this.options.report(decision);
    if (ended.acceptedSpan && acceptedText)
      this.track(generationId, acceptedText, ended.acceptedSpan);
  }

  private watchTypedInstead(event: LifecycleEvent, ended: EndedSuggestion) {
    const pos = ended.suggestion.pos;
    const entry: Pending = {
      event,
      // Starts empty at the suggestion's place and grows as the user types there (see mapSpans).
      span: { from: pos, to: pos },
      maxChars: ended.suggestion.original.length + TYPED_INSTEAD_MARGIN_CHARS,
      timer: setTimeout(
        () => this.reportTypedInstead(entry),
        this.options.typedWindowMs ?? TYPED_INSTEAD_WINDOW_MS,
      ),
    };
    this.pending.push(entry);
  }

  private reportTypedInstead(entry: Pending) {
    clearTimeout(entry.timer);
    this.pending = this.pending.filter((p) => p !== entry);
    const typed = entry.span.to > entry.span.from ? this.options.textAt(entry.span) : '';
    const event = entry.event;
    const typedText = typed.slice(0, entry.maxChars);
    if (event.type === 'dismissed')
      this.options.report({ ...event, payload: { ...event.payload, typedText } });
    else if (event.type === 'ignored')
      this.options.report({ ...event, payload: { ...event.payload, typedText } });
    else this.options.report(event);
  }

  /** Reports the decisions still waiting for the text typed instead (page hide, submit). */
  flushPending(): void {
    for (const entry of [...this.pending]) this.reportTypedInstead(entry);
  }

  private track(generationId: string, accepted: string, span: Span) {
    const entry: Tracked = { generationId, accepted, span: { ...span }, timers: [] };
    entry.timers = (this.options.windows ?? RETENTION_WINDOWS).map(({ window, ms }) =>
      setTimeout(() => this.reportRetention(entry, window), ms),
    );
    this.tracked.push(entry);
  }

  private reportRetention(entry: Tracked, window: RetentionWindow) {
    const remaining = entry.span.to > entry.span.from ? this.options.textAt(entry.span) : '';
    this.options.report({
      generationId: entry.generationId,
      type: 'retention',
      payload: {
        window,
        acceptedChars: entry.accepted.length,
        retainedChars: retainedChars(entry.accepted, remaining),
        editDistance: Number(normalizedEditDistance(entry.accepted, remaining).toFixed(4)),
        ...(this.options.captureText ? { text: remaining.slice(0, MAX_REPORTED_TEXT_CHARS) } : {}),
      },
    });
  }

  /** Re-anchors the accepted spans after an edit (`map` is the editor's position mapping). */
  mapSpans(map: (pos: number, assoc: number) => number): void {
    for (const entry of this.tracked) {
      const from = map(entry.span.from, 1);
      entry.span = { from, to: Math.max(from, map(entry.span.to, -1)) };
    }
    // Text typed at the edges of a watched place belongs to it (the span grows as the user types).
    for (const entry of this.pending) {
      const from = map(entry.span.from, -1);
      entry.span = { from, to: Math.max(from, map(entry.span.to, 1)) };
    }
  }

  /** The text was submitted: a final retention measure for every accepted span, then stop. */
  submitted(): void {
    this.flushPending();
    for (const entry of this.tracked) this.reportRetention(entry, 'submit');
    this.dispose();
  }

  dispose(): void {
    this.flushPending();
    this.cancelVisible();
    for (const entry of this.tracked) entry.timers.forEach(clearTimeout);
    this.tracked = [];
  }
}
