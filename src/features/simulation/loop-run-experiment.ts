/**
 * The closed loop's last steps: v2 ramped against v1 under guardrails while the writers keep
 * writing texts v2 never trained on, and the product's verdict acted on.
 */
import { figureLines, resultLines } from './loop-report';
import {
  experimentSeed,
  guardrails,
  phaseFacts,
  type LoopContext,
  type StepResult,
} from './loop-run';
import {
  createAndStart,
  figuresByModel,
  writeDuring,
  type ExperimentRow,
  type ModelVersionRow,
  type ResultsRow,
} from './loop-steps';

/** Step 5: v2 ramped against v1 under guardrails while the writers keep writing. */
export async function rampV2(
  ctx: LoopContext,
  input: { v1: ModelVersionRow; v2: ModelVersionRow; dataset: string },
): Promise<StepResult<{ experiment: ExperimentRow; results: ResultsRow }>> {
  const e = await createAndStart(ctx.api, {
    name: `Loop ${ctx.seed}: v2 against v1`,
    description: `Closed-loop demo: v2 distilled on dataset ${input.dataset}.`,
    control: input.v1,
    treatment: input.v2,
    treatmentName: 'v2',
    seed: experimentSeed(ctx.seed, 'v2-vs-v1'),
    ramp: ctx.mode.ramp,
    guardrails: guardrails(ctx.mode, 0.05),
  });
  const { tally, experiment } = await writeDuring(ctx.api, e.id, ctx.writers, {
    deadline: Date.now() + ctx.mode.experimentS * 1000,
    log: ctx.log,
    stopWhen: (x) => x.status !== 'running',
  });
  const figures = figuresByModel(tally);
  figureLines(figures).forEach(ctx.log);
  const results = await ctx.api.get<ResultsRow>(`/experiments/${e.id}/results`);
  resultLines(results).forEach(ctx.log);
  return {
    result: { experiment, results },
    facts: {
      experimentId: e.id,
      status: experiment.status,
      rampStep: experiment.rampStep,
      verdict: results.verdict,
      arms: results.arms,
      ...phaseFacts(tally, figures),
    },
  };
}

/**
 * Step 6: the product's verdict decides. Ship → promote v2; roll back (or a guardrail already did)
 * → v1 stays; still undecided when the time is up → v1 stays, saying so.
 */
export async function verdict(
  ctx: LoopContext,
  input: { experiment: ExperimentRow; results: ResultsRow },
): Promise<StepResult<{ decision: string; why: string }>> {
  const { experiment: e, results } = input;
  const treatment = e.arms.find((a) => !a.isControl)!;
  let decision: string;
  let why = results.verdict.why;
  if (e.status === 'rolled_back') decision = 'rolled back by a guardrail: v1 stays';
  else if (results.verdict.decision === 'ship') {
    await ctx.api.post(`/experiments/${e.id}/actions`, {
      expectedVersion: e.version,
      action: 'promote',
      armId: treatment.id,
      reason: why,
    });
    decision = 'promoted v2';
  } else {
    if (results.verdict.decision === 'keep running')
      why = `not shown to help at 95% within the time budget: ${why}`;
    await ctx.api.post(`/experiments/${e.id}/actions`, {
      expectedVersion: e.version,
      action: 'kill',
      reason: why,
    });
    decision = 'rolled back: v1 stays';
  }
  ctx.log(`    ${decision}: ${why}`);
  return { result: { decision, why }, facts: { decision, why } };
}
