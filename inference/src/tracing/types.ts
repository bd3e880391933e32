/**
 * What the serving path tells the tracer (no OpenTelemetry import here: with tracing off the
 * worker never loads the SDK, and the serving path only checks for a null tracer).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { SequenceStats } from '../engine/protocol';

export type TraceAttributes = Record<string, string | number | boolean | string[]>;

export interface RequestTracer {
  /** Starts a request's span, continuing the caller's W3C `traceparent` when it sent one. */
  start(request: {
    headers: IncomingHttpHeaders;
    operation: 'text_completion' | 'chat';
    model: string;
    attributes: TraceAttributes;
  }): RequestTrace;
  /** Exports what has ended (shutdown). */
  shutdown(): Promise<void>;
}

export interface ChoiceTrace {
  index: number;
  /** When the HTTP thread submitted the choice (epoch ms). */
  submittedAt: number;
  /** The engine's timings and counts (absent when it never answered). */
  stats: SequenceStats | undefined;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
}

export interface RequestTrace {
  choice(choice: ChoiceTrace): void;
  end(outcome: { attributes: TraceAttributes; error?: string }): void;
}
