// status of a PipelineJob, as the operator writes it: the types of the schema the CRD carries
// (trainer/src/api/status-schema.ts).
import type { z } from 'zod';
import type { JobStatusSchema } from '../../trainer/src/api/status-schema.ts';

export type JobStatus = z.output<typeof JobStatusSchema>;
export type Condition = NonNullable<JobStatus['conditions']>[number];
export type StageStatus = NonNullable<JobStatus['stages']>[number];
