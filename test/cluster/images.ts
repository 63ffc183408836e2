// Images are never pulled: the node agent runs the checkout instead. For a container that gives no
// `command`, Kubernetes runs the image's ENTRYPOINT (with `args`, or else the image's CMD); this table says
// what that ENTRYPOINT/CMD is for our own images (see operator/Dockerfile, trainer/Dockerfile*), with the
// checkout standing in for the image's /app. Keys are image repositories without tag or digest.
export interface ImageConfig {
  entrypoint: string[];
  cmd?: string[];
}

export function defaultImages(repoRoot: string): Record<string, ImageConfig> {
  return {
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
