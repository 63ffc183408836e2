// The operator's RBAC rules, read from the file the Helm chart also uses, as a ClusterRole.
import { readFileSync } from 'node:fs';
import type * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';

export const RBAC_RULES_FILE = new URL('../../charts/pipetrain/files/operator-rbac-rules.yaml', import.meta.url);

export function operatorRules(): k8s.V1PolicyRule[] {
  return parse(readFileSync(RBAC_RULES_FILE, 'utf8')) as k8s.V1PolicyRule[];
}

export function operatorClusterRole(name = 'pipetrain-operator'): k8s.V1ClusterRole {
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules: operatorRules() };
}
