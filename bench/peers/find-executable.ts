// Finds a peer's binary on PATH, so a benchmark can say which one is missing and how to install it
// before it starts anything.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The installer for every Debian package a benchmark peer comes from (docs/BENCHMARKS.md). */
export const peerInstallScript = 'scripts/install-bench-peers.sh';

/** The absolute path of `name` on PATH; throws naming the binary, its package and the installer. */
export function findExecutable(name: string, debianPackage: string): string {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (directory === '') continue;
    const path = join(directory, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      continue;
    }
  }
  throw new Error(
    `"${name}" is not on PATH; it comes from the Debian package ${debianPackage}. ` +
      `Install the benchmark peers with: sudo bash ${peerInstallScript}`,
  );
}
