/**
 * Why the ramp is where it is, from the guardrail job's last check: its note (what the step waits
 * for, counted on what) and, per arm, the exposed units (what a step's minimum counts) beside the
 * units with suggestions (what the guardrails count). Units with suggestions but fewer exposures
 * mean the exposure log is behind: the step cannot reach its minimum until it catches up.
 */
export interface CheckedArm {
  armId: string;
  exposures: number;
  units: number;
  suggestions: number;
}

export function RampState(props: {
  status: string;
  rampStep: number;
  steps: number;
  arms: { id: string; name: string }[];
  decision: { kind: string; note?: string } | undefined;
  checked: CheckedArm[] | undefined;
}) {
  if (props.status !== 'running' && props.status !== 'paused') return null;
  const { decision } = props;
  const why = !decision
    ? 'not checked yet: the guardrail job reads it at its next round'
    : (decision.note ??
      (decision.kind === 'advance' ? 'advanced at the last check' : decision.kind));
  const behind = (props.checked ?? []).filter((a) => a.units > a.exposures);
  const name = (armId: string) => props.arms.find((a) => a.id === armId)?.name ?? armId;
  return (
    <div data-testid="ramp-state" className="space-y-1 text-slate-700">
      <p>
        <span className="font-medium">
          Ramp step {props.rampStep + 1} of {props.steps}:
        </span>{' '}
        {why}
      </p>
      {props.checked && props.checked.length > 0 && (
        <p className="text-slate-600">
          {props.checked
            .map(
              (a) =>
                `${name(a.armId)}: ${a.exposures} exposed, ${a.units} with suggestions (${a.suggestions} suggestions)`,
            )
            .join(' · ')}
        </p>
      )}
      {behind.length > 0 && (
        <p role="alert" className="text-amber-700">
          {behind.map((a) => name(a.armId)).join(', ')}: more units with suggestions than exposed
          units; the exposure log is behind, and a step counts exposed units.
        </p>
      )}
    </div>
  );
}
