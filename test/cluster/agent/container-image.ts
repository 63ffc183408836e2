// What a pod's container runs, from the image it names, as a kubelet's runtime decides it:
// - an image `npm run images:build` exported (test/cluster/image-store.ts): its root file system, its
//   Entrypoint/Cmd/User/WorkingDir/Env, with the pod's command/args, env and securityContext on top;
// - a test image (test/cluster/images.ts, or registered by a test): the host's root with the checkout,
//   as root, the image's ENTRYPOINT/CMD from the table;
// - anything else cannot be pulled: ImagePullError, which the agent reports as ErrImagePull and
//   ImagePullBackOff.
import type * as k8s from '@kubernetes/client-node';
import { envRecord, homeOf, imageArgv, resolveUser } from '../image-config.ts';
import { findIn, readStore, type StoredImage } from '../image-store.ts';
import { containerArgv, imageRepository, type ImageConfig as TestImage } from '../images.ts';
import { REPO_ROOT } from './types.ts';

/** The node has no such image (no registry is reachable): the kubelet's ErrImagePull. */
export class ImagePullError extends Error {}

export interface ContainerSetup {
  /** Before $(VAR) expansion. */
  argv: string[];
  /** The image's root file system; null: the host's root with the checkout bound in (test images). */
  rootfs: string | null;
  /** The environment a runtime starts from, under the pod's env: the image's Env and HOME. */
  baseEnv: Record<string, string>;
  /** Who runs it; undefined: root (test images on the host's root). */
  user?: { uid: number; gid: number; groups: number[] };
  workingDir: string;
  readOnlyRoot: boolean;
  /** For the agent's log: which image and how. */
  describe: string;
}

/** `built` defaults to this checkout's exported images. */
export function containerSetup(
  pod: k8s.V1Pod,
  container: k8s.V1Container,
  testImages: Record<string, TestImage>,
  built: Record<string, StoredImage> = readStore(),
): ContainerSetup {
  const name = container.image ?? '';
  const image = findIn(built, name);
  if (image?.rootfs) return fromImage(pod, container, name, image);
  if (testImages[imageRepository(name)]) return onHost(container, name, testImages);
  const known = [...Object.keys(built), ...Object.keys(testImages)].sort().join(', ');
  throw new ImagePullError(`failed to pull image "${name}": not found (no registry is reachable; the nodes have only ${known || 'no images'}; build ours with \`npm run images:build\`)`);
}

function onHost(container: k8s.V1Container, name: string, testImages: Record<string, TestImage>): ContainerSetup {
  const argv = containerArgv(container, testImages);
  if (argv.length === 0) throw new Error(`container ${container.name} has no command and test image ${name} has no ENTRYPOINT in test/cluster/images.ts`);
  return {
    argv,
    rootfs: null,
    baseEnv: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: process.env.HOME ?? '/root' },
    workingDir: container.workingDir ?? REPO_ROOT,
    readOnlyRoot: false,
    describe: `test image ${name} on the host's root`,
  };
}

function fromImage(pod: k8s.V1Pod, container: k8s.V1Container, name: string, image: StoredImage): ContainerSetup {
  const rootfs = image.rootfs!;
  const argv = imageArgv(image.config, container.command, container.args);
  if (argv.length === 0) throw new Error(`container ${container.name} has no command and image ${name} has no Entrypoint or Cmd`);
  const podSecurity = pod.spec?.securityContext;
  const security = container.securityContext;
  const imageUser = resolveUser(rootfs, image.config.User);
  const uid = security?.runAsUser ?? podSecurity?.runAsUser ?? imageUser.uid;
  const explicitGroup = security?.runAsGroup ?? podSecurity?.runAsGroup;
  const gid = explicitGroup ?? (uid === imageUser.uid ? imageUser.gid : resolveUser(rootfs, String(uid)).gid);
  if ((security?.runAsNonRoot ?? podSecurity?.runAsNonRoot) && uid === 0) {
    throw new Error(`container has runAsNonRoot and image will run as root (pod: "${pod.metadata?.name}", container: ${container.name})`);
  }
  const groups = [...new Set([gid, ...(podSecurity?.fsGroup === undefined ? [] : [podSecurity.fsGroup]), ...(podSecurity?.supplementalGroups ?? [])])];
  const env = envRecord(image.config.Env);
  return {
    argv,
    rootfs,
    baseEnv: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...env, HOME: env.HOME ?? homeOf(rootfs, uid) },
    user: { uid, gid, groups },
    workingDir: container.workingDir ?? (image.config.WorkingDir || '/'),
    readOnlyRoot: !!security?.readOnlyRootFilesystem,
    describe: `image ${name} (${rootfs}) as ${uid}:${gid}${security?.readOnlyRootFilesystem ? ', read-only root' : ''}`,
  };
}

/**
 * The waiting state while a container cannot start: a kubelet says ErrImagePull on a failed pull and
 * ImagePullBackOff while it waits to pull again; anything else is CreateContainerConfigError.
 */
export function waitingFor(err: unknown, attempt: number, image: string): k8s.V1ContainerStateWaiting {
  const message = err instanceof Error ? err.message : String(err);
  if (!(err instanceof ImagePullError)) return { reason: 'CreateContainerConfigError', message };
  return attempt === 0 ? { reason: 'ErrImagePull', message } : { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ${message}` };
}
