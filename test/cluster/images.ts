// The test images: names the node agent runs on the host's root file system with this checkout bound
// in, as root, because they are not real images. Built images (`npm run images:build`,
// test/cluster/image-store.ts) come first: when ours are built, pods run from them instead. For a
// container that gives no `command`, Kubernetes runs the image's ENTRYPOINT (with `args`, or else the
// image's CMD); this table says what that is, with the checkout standing in for the image's /app. Keys are
// image repositories without tag or digest. Every other image cannot be pulled (ErrImagePull).
export interface ImageConfig {
  entrypoint: string[];
  cmd?: string[];
}

/** The image of test pods that run host commands (their `command` is a host path, e.g. this Node). */
export const HOST_TEST_IMAGE = 'pipetrain/test:dev';

export function defaultImages(repoRoot: string): Record<string, ImageConfig> {
  return {
    [imageRepository(HOST_TEST_IMAGE)]: { entrypoint: [] },
    // Until `npm run images:build` has built them, our own images run the checkout.

    'ghcr.io/pipetrain/pipetrain-operator': { entrypoint: [process.execPath, `${repoRoot}/operator/bin/pipetrain.js`], cmd: ['operator'] },
    'ghcr.io/pipetrain/pipetrain': { entrypoint: [process.execPath, `${repoRoot}/trainer/bin/pipetrain.js`], cmd: ['--help'] },
  };
}

/** `ghcr.io/x/y:1.0-gpu@sha256:…` → `ghcr.io/x/y` */
export function imageRepository(image: string): string {
  return image.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
}

/** The argv a container runs, as a container runtime computes it from command, args and the image. */
export function containerArgv(
  container: { command?: string[]; args?: string[]; image?: string },
  images: Record<string, ImageConfig>,
): string[] {
  if (container.command?.length) return [...container.command, ...(container.args ?? [])];
  const image = images[imageRepository(container.image ?? '')];
  if (!image) return [...(container.args ?? [])];
  return [...image.entrypoint, ...(container.args?.length ? container.args : (image.cmd ?? []))];
}
