/**
 * From one generation and its feedback to at most one training row, per format (see
 * feedback-metrics.md §5.1). Pure: the builder feeds it rows read up to the watermark.
 */
import { RETENTION_WINDOWS } from '~/features/feedback/events';
import { normalizedEditDistance } from '~/lib/edit-distance';
import type { DatasetDefinition, DatasetOutcome } from './definition';

export interface SourceGeneration {
  id: string;
  unitId: string;
  prompt: string;
  output: string;
}

export interface SourceEvent {
  type: string;
  payload: unknown;
  serverTs: Date;
  clientEventId: string;
}

export type DropReason =
  'outcome_not_selected' | 'below_min_retention' | 'no_user_text' | 'not_a_pair';

export type TrainingRow = Record<string, string | boolean>;

export type Candidate =
  | { kind: 'row'; row: TrainingRow; cls: string; prompt: string; target: string }
  | { kind: 'drop'; reason: DropReason };

const ACCEPTS: readonly DatasetOutcome[] = ['accepted', 'accepted_partial', 'typed_through'];
const DECISIONS = new Set<string>([
  'accepted',
  'accepted_partial',
  'typed_through',
  'dismissed',
  'ignored',
]);

const field = (payload: unknown, key: string): unknown =>
  payload && typeof payload === 'object' ? (payload as Record<string, unknown>)[key] : undefined;
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

// Events are ordered in code (server time, then client id by code unit), never by a database
// collation, so both databases pick the same decision.
const byTime = (a: SourceEvent, b: SourceEvent) =>
  a.serverTs.getTime() - b.serverTs.getTime() ||
  (a.clientEventId < b.clientEventId ? -1 : a.clientEventId > b.clientEventId ? 1 : 0);

export interface Observed {
  outcome: DatasetOutcome | null;
  /** 1 − edit distance at the last retention window reported, if any. */
  retention: number | null;
  /** What the user ended up with at the suggestion's place (kept text, or typed instead). */
  userText: string | null;
  acceptedChars: number | null;
}

export function observe(events: readonly SourceEvent[]): Observed {
  const sorted = [...events].sort(byTime);
  const decision = sorted.find((e) => DECISIONS.has(e.type));
  const rank = (e: SourceEvent) =>
    RETENTION_WINDOWS.indexOf(
      str(field(e.payload, 'window')) as (typeof RETENTION_WINDOWS)[number],
    );
  let last: SourceEvent | undefined;
  for (const e of sorted) if (e.type === 'retention' && (!last || rank(e) >= rank(last))) last = e;
  const distance = last ? num(field(last.payload, 'editDistance')) : undefined;
  const outcome = (decision?.type as DatasetOutcome | undefined) ?? null;
  const accepted = outcome !== null && ACCEPTS.includes(outcome);
  const userText = accepted
    ? (str(field(last?.payload, 'text')) ?? null)
    : (str(field(decision?.payload, 'typedText')) ?? null);
  return {
    outcome,
    retention: distance === undefined ? null : 1 - distance,
    userText,
    acceptedChars: num(field(decision?.payload, 'acceptedChars')) ?? null,
  };
}

/** The suggestion text the person took (all of it, or the accepted words of a partial accept). */
function takenText(generation: SourceGeneration, seen: Observed): string {
  if (seen.outcome === 'accepted_partial' && seen.acceptedChars !== null)
    return generation.output.slice(0, seen.acceptedChars);
  return generation.output;
}

export function toCandidate(
  definition: DatasetDefinition,
  generation: SourceGeneration,
  events: readonly SourceEvent[],
): Candidate {
  const seen = observe(events);
  const { outcome } = seen;
  const drop = (reason: DropReason): Candidate => ({ kind: 'drop', reason });
  if (definition.outcomes.length > 0 && (!outcome || !definition.outcomes.includes(outcome)))
    return drop('outcome_not_selected');
  const accepted = outcome !== null && ACCEPTS.includes(outcome);
  if (accepted && definition.minRetention > 0 && (seen.retention ?? 0) < definition.minRetention)
    return drop('below_min_retention');
  const prompt = generation.prompt;
  const row = (r: TrainingRow, cls: string, target: string): Candidate => ({
    kind: 'row',
    row: r,
    cls,
    prompt,
    target,
  });

  switch (definition.format) {
    case 'prompt-only':
      return row({ prompt }, 'prompt', '');
    case 'prompt-completion': {
      // The completion is what the user kept: the retained text when reported, else what was taken.
      if (accepted) {
        const completion = seen.userText ?? takenText(generation, seen);
        return row({ prompt, completion }, outcome, completion);
      }
      if (!seen.userText) return drop('no_user_text');
      return row({ prompt, completion: seen.userText }, outcome ?? 'none', seen.userText);
    }
    case 'preference': {
      // chosen = what the user wrote or kept, rejected = the suggestion they rewrote or dismissed.
      const chosen = seen.userText;
      if (!chosen) return drop('no_user_text');
      const rejected = generation.output;
      const distance = normalizedEditDistance(rejected, chosen);
      const { pairMinEditDistance, pairMaxEditDistance } = definition.gates;
      if (distance < pairMinEditDistance || distance > pairMaxEditDistance)
        return drop('not_a_pair');
      return row({ prompt, chosen, rejected }, 'pair', `${chosen}\u0000${rejected}`);
    }
    case 'unpaired-preference': {
      if (!outcome) return drop('outcome_not_selected');
      const label = accepted;
      const completion = accepted ? takenText(generation, seen) : generation.output;
      return row(
        { prompt, completion, label },
        label ? 'desirable' : 'undesirable',
        `${completion}\u0000${String(label)}`,
      );
    }
  }
}

/** Classes that must each reach `minRowsPerClass` (otherwise the total must). */
export function requiredClasses(definition: DatasetDefinition): string[] | null {
  return definition.format === 'unpaired-preference' ? ['desirable', 'undesirable'] : null;
}
