// Creating children: the Secret, headless Service and checkpoint claim (once, and again before each
// attempt in case someone deleted them), then all missing stage pods of the attempt together.
import { Conditions, Reasons } from '../constants.ts';
import { isTrue } from './conditions.ts';
import { buildCheckpointClaim, buildHeadlessService, buildTokenSecret } from '../children/job-children.ts';
import type { JobContext } from './context.ts';
import { buildStagePod, checkpointClaimOf } from '../children/pods.ts';

export async function ensureChildren(ctx: JobContext): Promise<void> {
  const { job, namespace, owner, env, draft } = ctx;
  const needed = !isTrue(draft.status.conditions, Conditions.Created) || ctx.current.some((p) => p === undefined);
  if (!needed) return;
  const claim = buildCheckpointClaim(job, namespace, owner);
  await Promise.all([
    env.actions.createSecret(buildTokenSecret(job, namespace, owner)),
    env.actions.createService(buildHeadlessService(job, namespace, owner)),
    claim ? env.actions.createClaim(claim) : undefined,
  ]);
  if (!isTrue(draft.status.conditions, Conditions.Created)) {
    draft.condition({ type: Conditions.Created, status: 'True', reason: Reasons.ChildrenCreated, message: 'Created the token Secret and the headless Service' });
  }
}

/** Creates every missing stage pod of the current attempt. True when it created any. */
export async function createMissingPods(ctx: JobContext): Promise<boolean> {
  const missing = ctx.current.map((pod, stage) => (pod ? undefined : stage)).filter((s): s is number => s !== undefined);
  if (missing.length === 0) return false;
  const { draft } = ctx;
  await Promise.all(
    missing.map((stage) =>
      ctx.env.actions.createPod(
        buildStagePod({
          job: ctx.job,
          namespace: ctx.namespace,
          owner: ctx.owner,
          partition: ctx.partition,
          stage,
          attempt: ctx.attempt,
          defaultImage: ctx.env.defaultImage,
          command: ctx.env.stageCommand,
          avoidNodes: draft.status.avoidNodes,
          checkpointClaim: checkpointClaimOf(ctx.job),
        }),
      ),
    ),
  );
  draft.status.startTime ??= draft.now;
  if (missing.length === ctx.partition.length) {
    draft.event('Normal', Reasons.PodsCreated, `Created ${missing.length} stage pods (attempt ${ctx.attempt})`);
  }
  return true;
}
