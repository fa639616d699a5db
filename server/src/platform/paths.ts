import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from this file's place rather than the working directory. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where the shared face datasets are: $FACEPAY_DATASETS, else ../shared/datasets beside the repository. */
export function datasetsDir(): string {
  return process.env.FACEPAY_DATASETS ?? resolve(repoRoot, '../shared/datasets');
}

/** The datasets folder (or a sub-folder of it) if present, else undefined, so tests can skip with a reason. */
export function findDataset(sub = ''): string | undefined {
  const p = resolve(datasetsDir(), sub);
  return existsSync(p) ? p : undefined;
}
