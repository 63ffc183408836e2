// Conditions per the Kubernetes API conventions: one entry per type; lastTransitionTime changes
// only when status changes (a new reason or message alone keeps it).
import type { ConditionType, Phase } from '../constants.ts';
import { Conditions } from '../constants.ts';
import type { Condition } from './status-types.ts';

export interface ConditionInput {
  type: ConditionType;
  status: Condition['status'];
  reason: string;
  message: string;
}

export function setCondition(conditions: Condition[], input: ConditionInput, now: string, generation?: number): Condition[] {
  const existing = conditions.find((c) => c.type === input.type);
  const lastTransitionTime = existing && existing.status === input.status ? existing.lastTransitionTime : now;
  const next: Condition = { ...input, lastTransitionTime, observedGeneration: generation };
  return existing ? conditions.map((c) => (c.type === input.type ? next : c)) : [...conditions, next];
}

export function getCondition(conditions: Condition[] | undefined, type: ConditionType): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export const isTrue = (conditions: Condition[] | undefined, type: ConditionType): boolean => getCondition(conditions, type)?.status === 'True';

/** The phase printed by `kubectl get pj`, derived from the conditions (the source of truth). */
export function phaseOf(conditions: Condition[]): Phase {
  if (isTrue(conditions, Conditions.Failed)) return 'Failed';
  if (isTrue(conditions, Conditions.Succeeded)) return 'Succeeded';
  if (isTrue(conditions, Conditions.Suspended)) return 'Suspended';
  if (isTrue(conditions, Conditions.Restarting)) return 'Restarting';
  if (isTrue(conditions, Conditions.Running)) return 'Running';
  return 'Pending';
}
