// The standard labels of a job's children, and the selector that finds them.
import { APP_NAME, Labels, MANAGED_BY } from '../constants.ts';

export function childLabels(job: string, component: string): Record<string, string> {
  return { [Labels.name]: APP_NAME, [Labels.managedBy]: MANAGED_BY, [Labels.component]: component, [Labels.job]: job };
}

/** Label selector of the operator's pod informer: every stage pod it manages, in any job. */
export const MANAGED_PODS_SELECTOR = `${Labels.managedBy}=${MANAGED_BY},${Labels.job}`;
