// Locations of the project's source tree and of the shared reference data, for unit tests.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const repoDir = resolve(webDir, '..');

/** SAM2_GOLDEN or ../shared/golden next to the repository; null when absent. */
export function goldenDir(): string | null {
  const dir = process.env.SAM2_GOLDEN ?? resolve(repoDir, '..', 'shared', 'golden');
  return existsSync(dir) ? dir : null;
}
