/**
 * Spans of one generation request, after the OpenTelemetry GenAI semantic conventions: a server
 * span `{operation} {model}` that continues the caller's trace, and per choice the phases the
 * engine reports (queue wait, prefill, decode with step and speculation counts). The engine
 * thread only records timestamps; spans are built here from them when a choice ends, so no
 * span work happens per token.
 */
import {
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import type { ChoiceTrace, RequestTrace, RequestTracer, TraceAttributes } from './types';

/** Our own value for `gen_ai.provider.name` (the conventions allow custom ones). */
export const PROVIDER_NAME = 'flywheel';

export function createRequestTracer(tracer: Tracer, shutdown: () => Promise<void>): RequestTracer {
  return {
    shutdown,
    start({ headers, operation, model, attributes }): RequestTrace {
      const parent = propagation.extract(ROOT_CONTEXT, headers);
      const span = tracer.startSpan(
        `${operation} ${model}`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'gen_ai.operation.name': operation,
            'gen_ai.provider.name': PROVIDER_NAME,
            'gen_ai.request.model': model,
            ...attributes,
          },
        },
        parent,
      );
      const inside = trace.setSpan(parent, span);
      const child = (
        name: string,
        [start, end]: [number, number],
        attrs: TraceAttributes,
        under = inside,
      ) => {
        if (!(start > 0 && end >= start)) return null;
        const phase = tracer.startSpan(name, { startTime: start, attributes: attrs }, under);
        phase.end(end);
        return trace.setSpan(under, phase);
      };
      return {
        choice(c: ChoiceTrace) {
          const s = c.stats;
          const choice = { 'flywheel.choice.index': c.index };
          if (!s) return;
          const admitted = s.admittedAt || s.finishedAt;
          child('queue wait', [c.submittedAt, admitted], choice);
          child('prefill', [s.admittedAt, s.prefilledAt || s.finishedAt], {
            ...choice,
            'flywheel.prefill.prompt_tokens': c.promptTokens,
            'flywheel.prefill.cached_tokens': c.cachedTokens,
            'flywheel.prefill.computed_tokens': c.promptTokens - c.cachedTokens,
          });
          const speculation = {
            'flywheel.speculative.draft_tokens': s.drafted,
            'flywheel.speculative.accepted_tokens': s.accepted,
          };
          const decode = child('decode', [s.prefilledAt, s.finishedAt], {
            ...choice,
            'flywheel.decode.steps': s.steps,
            'flywheel.decode.output_tokens': c.completionTokens,
            ...speculation,
          });
          // Drafts are verified inside the decode steps, so this span shares decode's time;
          // it carries the counts where a trace viewer shows speculation at a glance.
          if (decode && s.drafted > 0) {
            child(
              'speculation',
              [s.prefilledAt, s.finishedAt],
              {
                ...choice,
                ...speculation,
                'flywheel.speculative.acceptance': s.accepted / s.drafted,
              },
              decode,
            );
          }
        },
        end({ attributes: attrs, error }) {
          span.setAttributes(attrs);
          if (error !== undefined) {
            span.setAttribute('error.type', error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: error });
          }
          span.end();
        },
      };
    },
  };
}
