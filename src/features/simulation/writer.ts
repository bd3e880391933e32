/**
 * One simulated writer: types their documents through the transport, reacts to each suggestion
 * by the behaviour model and reports what happened as the browser would. The writer keeps its
 * step counter and place across phases, so a later phase continues the same person.
 *
 * Time: typing, pauses and reading are the writer's own clock (virtual, not slept), so a run
 * covers hours of writing in minutes; the app's latency is real and is what the writer's
 * patience is measured against (the request is aborted when the pause ends, as the next
 * keystroke aborts it in the browser).
 */
import type { FeedbackEventInput } from '~/features/feedback/events';
import { retainedChars } from '~/lib/edit-distance';
import {
  abortAfterMs,
  experiencedLatencyMs,
  patienceMs,
  pausesAt,
  react,
  type BehaviourParams,
  type Outcome,
  type Reaction,
} from './behaviour';
import { decisionEvents, dueRetentionEvents, type TrackedAccept } from './feedback-events';
import type { Coordinates } from './random';
import { statusOf, type SuggestionAnswer, type WriterTransport } from './transport';

export interface Document {
  id: string;
  text: string;
}

/** A document cut to at most `max` characters, at the end of a sentence when one fits. */
export function documentToWrite(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max);
  const end = Math.max(head.lastIndexOf('. '), head.lastIndexOf('.\n'), head.lastIndexOf('\n'));
  return end > max / 3 ? head.slice(0, end + 1) : head.slice(0, head.lastIndexOf(' ') + 1 || max);
}

/** End of the next word after `from` (its leading whitespace included). */
export function nextWordEnd(text: string, from: number): number {
  const m = /\s*\S+/y;
  m.lastIndex = from;
  return m.exec(text) ? m.lastIndex : text.length;
}

/** What one writer or a whole population did, per model version that answered. */
export interface ArmTally {
  /** Answers received (requests not aborted). */
  requests: number;
  /** Answers with text. */
  answered: number;
  shown: number;
  outcomes: Record<Outcome, number>;
  /** Characters accepted (whole or partial) and what of them was kept at submit. */
  acceptedChars: number;
  keptChars: number;
  tiers: Record<string, number>;
  latenciesMs: number[];
}

export interface Tally {
  byModel: Map<string, ArmTally>;
  /** Suggestion requests sent. */
  requests: number;
  /** Aborted by the writer's next keystroke before the answer came (never painted). */
  aborted: number;
  eventsSent: number;
  eventsRejected: number;
  throttled: number;
  failed: number;
  documents: number;
  charsWritten: number;
}

export function emptyArmTally(): ArmTally {
  return {
    requests: 0,
    answered: 0,
    shown: 0,
    outcomes: { accepted: 0, accepted_partial: 0, typed_through: 0, dismissed: 0, ignored: 0 },
    acceptedChars: 0,
    keptChars: 0,
    tiers: {},
    latenciesMs: [],
  };
}

export function emptyTally(): Tally {
  return {
    byModel: new Map(),
    requests: 0,
    aborted: 0,
    eventsSent: 0,
    eventsRejected: 0,
    throttled: 0,
    failed: 0,
    documents: 0,
    charsWritten: 0,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rejects when `signal` aborts; never settles otherwise. */
function settledBy(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    const fail = () => reject(new Error('aborted'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}
const BATCH = 100;

export interface WriterOptions {
  seed: string;
  writerId: string;
  unitId: string;
  featureId: string;
  documents: readonly Document[];
  params: BehaviourParams;
  transport: WriterTransport;
  /** The feature's `trainingData` setting: report the kept and typed-instead text. */
  captureText: boolean;
  /**
   * Requests in flight across the population, at most (not everybody pauses at the same instant;
   * writers on a virtual clock would otherwise ask far faster than people do). The wait for a
   * slot is not part of the latency the writer experiences.
   */
  slots?: Slots;
}

/** A counting semaphore. */
export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = size;
  }
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

export type WriterState = 'typing' | 'asking' | 'sending' | 'done';

export class Writer {
  private step = 0;
  private docIndex = 0;
  /** The writer's own clock (virtual ms); the page stays open across documents and phases. */
  private clock = 0;
  private readonly tracked: TrackedAccept[] = [];
  private readonly queue: FeedbackEventInput[] = [];
  state: WriterState = 'typing';

  constructor(private o: WriterOptions) {}

  get id(): string {
    return this.o.writerId;
  }

  get unitId(): string {
    return this.o.unitId;
  }

  /** The same person goes on to other texts (their step counter, clock and page carry on). */
  writeNext(documents: readonly Document[]): void {
    this.o = { ...this.o, documents };
    this.docIndex = 0;
  }

  /**
   * Writes documents until `stop()` says so (checked between words) or `maxDocuments` are done
   * (more than it has: it starts again from its first); reports into `tally`.
   */
  async writeUntil(
    stop: () => boolean,
    tally: Tally,
    maxDocuments: number | 'share' = Infinity,
  ): Promise<void> {
    // 'share': each of the writer's own documents once.
    const limit = maxDocuments === 'share' ? this.o.documents.length : maxDocuments;
    for (let n = 0; n < limit && !stop() && this.o.documents.length > 0; n++) {
      const doc = this.o.documents[this.docIndex % this.o.documents.length]!;
      this.docIndex++;
      await this.writeDocument(doc, stop, tally);
    }
    this.state = 'done';
  }

  private arm(tally: Tally, model: string): ArmTally {
    let arm = tally.byModel.get(model);
    if (!arm) tally.byModel.set(model, (arm = emptyArmTally()));
    return arm;
  }

  private async writeDocument(doc: Document, stop: () => boolean, tally: Tally): Promise<void> {
    const { params, seed, writerId } = this.o;
    const text = documentToWrite(doc.text, params.maxDocumentChars);
    const queue = this.queue;
    let p = 0;
    while (p < text.length && !stop()) {
      const next = nextWordEnd(text, p);
      this.clock += (next - p) * params.msPerChar;
      tally.charsWritten += next - p;
      p = next;
      if (p >= text.length) break;
      const at: Coordinates = { seed, writerId, step: this.step++ };
      const { pause, pauseMs } = pausesAt(params, at, text.slice(0, p));
      if (!pause) continue;
      const answer = await this.ask(text.slice(0, p), patienceMs(params, pauseMs), tally);
      this.clock += pauseMs;
      tally.requests++;
      if (!answer) continue;
      if (answer.aborted) {
        // Never painted; which version would have answered only the server knows.
        tally.aborted++;
        continue;
      }
      const a = answer.answer;
      const arm = this.arm(tally, a.modelVersion ?? a.tier);
      arm.requests++;
      arm.tiers[a.tier] = (arm.tiers[a.tier] ?? 0) + 1;
      arm.latenciesMs.push(answer.latencyMs);
      if (!a.text) continue;
      arm.answered++;
      const reaction: Reaction = react(params, {
        at,
        suggestion: a.text,
        intended: text.slice(p),
        latencyMs: answer.experiencedMs,
        pauseMs,
      });
      if (reaction.shown) {
        arm.shown++;
        arm.outcomes[reaction.outcome]++;
      }
      this.clock += reaction.decisionMs;
      if (a.generationId) {
        queue.push(
          ...decisionEvents({
            params,
            at,
            generationId: a.generationId,
            reaction,
            captureText: this.o.captureText,
            clientTs: Date.now(),
          }),
        );
        if (reaction.accepted && reaction.shown) {
          this.tracked.push({
            at,
            generationId: a.generationId,
            ...reaction.accepted,
            acceptedAtMs: this.clock,
            reported: new Set(),
          });
          arm.acceptedChars += reaction.accepted.text.length;
          arm.keptChars += retainedChars(reaction.accepted.text, reaction.accepted.kept);
        }
      }
      if (reaction.shown) p += reaction.consumed;
      queue.push(
        ...dueRetentionEvents({
          tracked: this.tracked,
          nowMs: this.clock,
          captureText: this.o.captureText,
          clientTs: Date.now(),
        }),
      );
      if (queue.length >= BATCH) await this.flush(queue.splice(0), tally);
    }
    tally.documents++;
    while (queue.length) await this.flush(queue.splice(0, BATCH), tally);
  }

  private async ask(
    textBefore: string,
    patience: number,
    tally: Tally,
  ): Promise<
    | { aborted: true }
    | { aborted: false; answer: SuggestionAnswer; latencyMs: number; experiencedMs: number }
    | null
  > {
    const release = (await this.o.slots?.acquire()) ?? (() => {});
    this.state = 'asking';
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), abortAfterMs(this.o.params, patience));
    const started = performance.now();
    try {
      const request = this.o.transport.complete(
        { featureId: this.o.featureId, unitId: this.o.unitId, textBefore, textAfter: '' },
        controller.signal,
      );
      // The abort ends the wait even if the client library never settles an aborted call
      // (seen with @trpc/client: an abort racing the response left the promise pending).
      const answer = await Promise.race([request, settledBy(controller.signal)]);
      const latencyMs = performance.now() - started;
      const experiencedMs = experiencedLatencyMs(this.o.params, latencyMs);
      // Typed on before it came (an instant answer is judged against the patience as 0 ms).
      if (experiencedMs > patience) return { aborted: true };
      return { aborted: false, answer, latencyMs, experiencedMs };
    } catch (error) {
      if (controller.signal.aborted) return { aborted: true };
      if (statusOf(error) === 429) {
        tally.throttled++;
        await sleep(1000); // the browser simply gets no suggestion; the writer types on
      } else tally.failed++;
      return null;
    } finally {
      clearTimeout(timer);
      release();
      this.state = 'typing';
    }
  }

  /** Sends a batch like the page's queue: retried on network errors, 5xx and 429; dropped on other 4xx. */
  private async flush(events: FeedbackEventInput[], tally: Tally): Promise<void> {
    this.state = 'sending';
    for (let attempt = 0; attempt < 6; attempt++) {
      try {
        const signal = AbortSignal.timeout(30_000);
        const result = await Promise.race([
          this.o.transport.ingest({ unitId: this.o.unitId, events }, signal),
          settledBy(signal),
        ]);
        this.state = 'typing';
        tally.eventsSent += result.accepted + result.duplicates;
        tally.eventsRejected += result.rejected.length;
        return;
      } catch (error) {
        const status = statusOf(error);
        if (status !== undefined && status >= 400 && status < 500 && ![408, 429].includes(status)) {
          tally.eventsRejected += events.length;
          this.state = 'typing';
          return;
        }
        if (status === 429) tally.throttled++;
        await sleep(250 * 2 ** attempt);
      }
    }
    tally.eventsRejected += events.length;
    this.state = 'typing';
  }
}
