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
  configReachesApps,
  createAndStart,
  figuresByModel,
  waitForRampStep,
  writeDuring,
  type ExperimentRow,
  type ModelVersionRow,
  type ResultsRow,
} from './loop-steps';
import { emptyTally } from './writer';

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
  // Bounded by texts, one part per ramp step. The demo holds each step (paused: the step keeps
  // serving and the guardrails keep checking, only the ramp waits) until its texts are written,
  // then releases it and the guardrail job advances it once its conditions hold. Which writer is
  // in the test, on which arm, for which texts, is then a function of the seed, not of when the
  // job's tick came (a job advancing mid-text changes what the newly covered writers see).
  // The start must reach every app before anyone writes; a pause changes nothing they serve, and
  // waitForRampStep waits for an advance to reach them.
  await configReachesApps();
  const deadline = Date.now() + ctx.mode.experimentS * 1000;
  const tally = emptyTally();
  const steps = ctx.mode.experimentTexts;
  let experiment = e;
  for (const [i, documentsPerWriter] of steps.entries()) {
    const last = i === steps.length - 1;
    if (!last)
      experiment = await act(
        ctx,
        experiment,
        'pause',
        `the closed-loop demo holds ramp step ${i + 1} until each writer has written ${documentsPerWriter} texts`,
      );
    ({ experiment } = await writeDuring(ctx.api, e.id, ctx.writers, {
      deadline,
      log: ctx.log,
      stopWhen: (x) => !live(x),
      documentsPerWriter,
      tally,
    }));
    if (last || !live(experiment)) break;
    ctx.log(`    step ${i + 1}'s texts are written: released, for the guardrail job to advance …`);
    experiment = await act(ctx, experiment, 'start');
    const next = await waitForRampStep(
      ctx.api,
      e.id,
      experiment.rampStep,
      Math.max(0, deadline - Date.now()),
    );
    if (!next) {
      ctx.log(`    the ramp did not advance within the time budget: judged on step ${i + 1}`);
      break;
    }
    experiment = next;
    ctx.log(
      `    ramp step ${experiment.rampStep + 1}, coverage ${(100 * experiment.coverage).toFixed(0)}%, status ${experiment.status}`,
    );
    if (!live(experiment)) break;
  }
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

const live = (e: ExperimentRow) => e.status === 'running' || e.status === 'paused';

/** An experiment action on its current version (the guardrail job may have changed it since). */
async function act(
  ctx: LoopContext,
  e: ExperimentRow,
  action: 'pause' | 'start',
  reason?: string,
): Promise<ExperimentRow> {
  const now = await ctx.api.get<ExperimentRow>(`/experiments/${e.id}`);
  // Nothing to do when it ended or is already where the action would take it.
  if (!live(now) || now.status === (action === 'pause' ? 'paused' : 'running')) return now;
  return ctx.api.post<ExperimentRow>(`/experiments/${e.id}/actions`, {
    expectedVersion: now.version,
    action,
    ...(reason ? { reason } : {}),
  });
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
      why = `not shown to help at 95% on the experiment's texts: ${why}`;
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
