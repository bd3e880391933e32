/**
 * The closed-loop demo's durations and sizes (scripts/demo-loop.ts): full fits 20 minutes on a
 * 2-core machine, quick (for CI) 3. The distill recipe is the one the offline harness
 * (npm run loop:harness) chose: supervised on what writers took of v1's suggestions, ending where
 * they stopped taking, anchored to the teacher (README, "The closed loop").
 */
import type { LoopMode } from './loop-run';

export interface DemoMode extends LoopMode {
  writers: number;
  /** Suggestion requests in flight at once across the writers. */
  maxInFlight: number;
  /** The guardrail job's interval in the product the demo starts. */
  guardrailMs: number;
  /** The datasets' settle time in the product the demo starts (DATASET_WATERMARK_SETTLE_MS). */
  settleMs: number;
}

/** The loss and its weights, the same in both modes; only the sizes differ. */
const RECIPE = {
  lr: 1e-4,
  kdWeight: 0.5,
  sftWeight: 1,
  sftStop: true,
  noEmptyWeight: 100,
} as const;

export function demoMode(quick: boolean): DemoMode {
  return quick
    ? {
        writers: 16,
        maxInFlight: 3,
        baselineTexts: 1,
        baselineS: 120,
        distill: { ...RECIPE, steps: 6, batch: 4, evalPrompts: 6 },
        evalSample: 20,
        badS: 100,
        // The ramp advances once control has 200 suggestions (its p95 is then the latency
        // guardrail's threshold): 3 texts per writer get there at 50% coverage.
        experimentTexts: [3, 2],
        experimentS: 90,
        // Once the demo releases step 1, the job advances it as soon as every guardrail has its
        // minimum sample (2 units per arm; 16 writers at 50% coverage put about 4 in each).
        ramp: [
          { coverage: 0.5, minDurationMinutes: 0, minUnitsPerArm: 2 },
          { coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 },
        ],
        minUnits: 2,
        guardrailMs: 2000,
        settleMs: 5000,
      }
    : {
        writers: 40,
        maxInFlight: 6,
        // Every writer writes their whole share of the first half: v2 learns from all of it.
        baselineTexts: 'share',
        baselineS: 600,
        distill: { ...RECIPE, steps: 60, batch: 16, evalPrompts: 16 },
        evalSample: 200,
        badS: 120,
        // Each writer writes 3 texts at the first ramp step and 15 more at the second (about
        // 21,000 suggestion requests, 4–5 minutes here); 12 minutes only guard a stuck run.
        experimentTexts: [3, 15],
        experimentS: 720,
        // Once the demo releases step 1 (its 3 texts per writer take about a minute), the job
        // advances it when it has lasted its minute, each arm has its exposed units and every
        // guardrail its minimum sample (50% coverage of 40 writers puts about 10 in each arm).
        ramp: [
          { coverage: 0.5, minDurationMinutes: 1, minUnitsPerArm: 3 },
          { coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 },
        ],
        minUnits: 3,
        guardrailMs: 5000,
        // Above the generation writer's 30 s of retries (datasets-service.ts says why).
        settleMs: 35_000,
      };
}
