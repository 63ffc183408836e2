// Step 4: puts the binding where tfjs-node's loader looks (lib/napi-v<N>/) and the libraries where
// the binding's RUNPATH ($ORIGIN/../../deps/lib) finds them. Linking points deps/lib at the cache
// (instant; what `npm ci` wipes is re-made in a moment); copying makes the package self-contained,
// for an image that will not have the cache.
import { copyFileSync, cpSync, lstatSync, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BINDING_STAMP, packagePaths, TENSORFLOW_LIBRARIES } from '../tf/native-layout.ts';
import type { BuiltBinding } from './binding-build.ts';
import type { Libraries } from './libraries.ts';
import type { NativePackage } from './native-package.ts';
import { formatBytes, type SetupReport } from './setup-report.ts';

export function linkIntoPackage(pkg: NativePackage, napiVersion: number, libraries: Libraries, binding: BuiltBinding, copy: boolean, report: SetupReport): void {
  const started = performance.now();
  const paths = packagePaths(pkg.dir, napiVersion);
  mkdirSync(join(pkg.dir, 'deps'), { recursive: true });
  removeIfPresent(paths.libDir);
  if (copy) {
    mkdirSync(paths.libDir);
    for (const library of TENSORFLOW_LIBRARIES) copyFileSync(join(libraries.libDir, library), join(paths.libDir, library));
  } else {
    symlinkSync(libraries.libDir, paths.libDir);
  }
  // Copied, not linked: Node loads a .node file by its real path, and $ORIGIN must be this folder.
  mkdirSync(paths.bindingDir, { recursive: true });
  const temporary = `${paths.binding}.${process.pid}`;
  copyFileSync(binding.path, temporary);
  renameSync(temporary, paths.binding);
  cpSync(join(binding.path, '..', BINDING_STAMP), paths.stamp);
  const libraryBytes = Object.values(libraries.manifest.libraries).reduce((a, b) => a + b, 0);
  const how = copy ? `copied the libraries (${formatBytes(libraryBytes)}) into` : `linked ${libraries.libDir} as`;
  report.step('link', `${how} ${paths.libDir}; binding at ${paths.binding}`, started);
}

function removeIfPresent(path: string): void {
  try {
    lstatSync(path);
  } catch {
    return;
  }
  rmSync(path, { recursive: true, force: true });
}
