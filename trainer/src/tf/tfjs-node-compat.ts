// tfjs-node 4.22 uses two helpers of node:util that Node has since dropped or deprecated:
// - util.isNullOrUndefined, called for every op it runs (nodejs_kernel_backend.js, kernels/TopK.js).
//   Node 23 removed it, so on Node 24 the first op throws "isNullOrUndefined is not a function".
// - util.isArray, also called per op: a runtime deprecation (DEP0044) on Node 22+, which prints a
//   warning into every stage's log.
// We define both as their exact modern equivalents before loading tfjs-node.
import util from 'node:util';

type LegacyUtil = typeof util & { isNullOrUndefined?: (value: unknown) => boolean; isArray?: (value: unknown) => boolean };

export function installTfjsNodeCompat(): void {
  const legacy = util as LegacyUtil;
  if (typeof legacy.isNullOrUndefined !== 'function') legacy.isNullOrUndefined = (value) => value === null || value === undefined;
  if (legacy.isArray !== Array.isArray) legacy.isArray = Array.isArray;
}
