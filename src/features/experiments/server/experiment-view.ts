/**
 * An experiment as the console, the API and the jobs see it: the row with its arms (control
 * first, in bucket order) and its stored ramp and guardrails parsed.
 */
import type { Prisma } from '~/generated/prisma/client';
import {
  storedGuardrails,
  storedRamp,
  type ExperimentStatus,
  type Guardrail,
  type RampStep,
} from '../config';
import { armOrder } from './experiment-serving';
import { modelVersionLabel } from '~/features/models/model-label';

/** Statuses in which an experiment serves its arms. */
export const LIVE: ExperimentStatus[] = ['running', 'paused'];

export const experimentInclude = {
  arms: {
    orderBy: [{ isControl: 'desc' }, { name: 'asc' }],
    include: {
      modelVersion: { select: { id: true, name: true, version: true, status: true } },
    },
  },
} satisfies Prisma.ExperimentInclude;

export type ExperimentRow = Prisma.ExperimentGetPayload<{ include: typeof experimentInclude }>;

export interface ExperimentView {
  id: string;
  featureId: string;
  name: string;
  description: string;
  status: ExperimentStatus;
  /** The assignment seed (GrowthBook's `seed`). */
  seed: string;
  /** Optimistic-concurrency version: send it back with every change. */
  version: number;
  ramp: RampStep[];
  rampStep: number;
  /** Share of units in the experiment now (0 unless running or paused). */
  coverage: number;
  guardrails: Guardrail[];
  alpha: number;
  /** The guardrails' sequential-test tuning N* (units, all arms). */
  sequentialTuning: number;
  statusReason: string | null;
  lastCheck: unknown;
  lastCheckedAt: Date | null;
  stepStartedAt: Date | null;
  startedAt: Date | null;
  endedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  arms: {
    id: string;
    name: string;
    isControl: boolean;
    weight: number;
    modelVersion: { id: string; name: string; version: string; status: string; label: string };
  }[];
}

export function coverageOf(row: { status: string; ramp: unknown; rampStep: number }): number {
  if (!LIVE.includes(row.status as ExperimentStatus)) return 0;
  const ramp = storedRamp(row.ramp);
  return (ramp[Math.min(row.rampStep, ramp.length - 1)] as RampStep).coverage;
}

export function toView(row: ExperimentRow): ExperimentView {
  return {
    id: row.id,
    featureId: row.featureId,
    name: row.name,
    description: row.description,
    status: row.status,
    seed: row.salt,
    version: row.configVersion,
    ramp: storedRamp(row.ramp),
    rampStep: row.rampStep,
    coverage: coverageOf(row),
    guardrails: storedGuardrails(row.guardrails),
    alpha: row.alpha,
    sequentialTuning: row.sequentialTuning,
    statusReason: row.statusReason,
    lastCheck: row.lastCheck,
    lastCheckedAt: row.lastCheckedAt,
    stepStartedAt: row.stepStartedAt,
    startedAt: row.startedAt,
    endedAt: row.endedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    // The order of the bucket ranges (control first, then by name), as serving uses it.
    arms: armOrder(row.arms).map((a) => ({
      id: a.id,
      name: a.name,
      isControl: a.isControl,
      weight: a.allocationBp / 10_000,
      modelVersion: {
        ...a.modelVersion,
        label: modelVersionLabel(a.modelVersion),
      },
    })),
  };
}
