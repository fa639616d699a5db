/** Rebuilding a partition's index from the database, learning its projection first when the index is narrower than the templates. */
import { Progress } from '../platform/progress.ts';
import type { LocalPartition } from './partition.ts';
import { learnProjection } from './projection.ts';
import type { GalleryRepo, TemplateRow } from './repo.ts';
import type { ModelRef } from './types.ts';

/**
 * Templates a projection is learned from. The 512-d model's templates span about 150 directions,
 * so 20,000 pin them down (in an exact scan of projected vectors at 100 thousand, projections
 * learned from 2,048 and from 20,000 templates kept the same candidates); learning costs a few
 * seconds of a rebuild.
 */
const PROJECTION_SAMPLES = 20_000;

export interface RebuildDeps {
  repo: GalleryRepo;
  model: ModelRef;
  dim: number;
  /** The index's dimensions when narrower than the templates (`AnnParams.indexDim`). */
  indexDim: number | undefined;
  /** Progress lines go here (default stderr); null stays silent. */
  progressOut: NodeJS.WriteStream | null | undefined;
  decrypt(row: TemplateRow): Float32Array;
}

/**
 * Rebuilds a partition's index from the database. When the templates are wider than the index
 * (`AnnParams.indexDim`) and there are enough of them, the projection is learned first from the
 * oldest `PROJECTION_SAMPLES` templates in key order: deterministic, and the same set whichever
 * process rebuilds.
 */
export async function rebuildPartition(d: RebuildDeps, part: LocalPartition): Promise<void> {
  const total = (await d.repo.stats(d.model, [part.id])).find((s) => s.partitionId === part.id)?.count ?? 0;
  const progress = d.progressOut === null ? undefined : new Progress(`gallery index ${part.id}`, total, d.progressOut);
  const dim = d.dim;
  let after = 0;
  const batch = 10_000;
  const page = async (): Promise<{ keys: number[]; flat: Float32Array }> => {
    const rows = await d.repo.templatesPage(d.model, part.id, after, batch);
    const flat = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => flat.set(d.decrypt(r), i * dim));
    after = rows[rows.length - 1]?.templateKey ?? after;
    return { keys: rows.map((r) => r.templateKey), flat };
  };
  const pending: { keys: number[]; flat: Float32Array }[] = [];
  if (part.wantsProjection(total)) {
    // The first pages are read ahead, learned from, then indexed like the rest.
    let have = 0;
    while (have < Math.min(total, PROJECTION_SAMPLES)) {
      const p = await page();
      if (p.keys.length === 0) break;
      pending.push(p);
      have += p.keys.length;
    }
    const sample = new Float32Array(Math.min(have, PROJECTION_SAMPLES) * dim);
    let filled = 0;
    for (const p of pending) {
      const take = Math.min(p.flat.length, sample.length - filled);
      sample.set(p.flat.subarray(0, take), filled);
      filled += take;
    }
    part.clear(have > 0 ? learnProjection(sample, dim, d.indexDim ?? dim) : undefined);
  } else {
    part.clear();
  }
  for (;;) {
    const p = pending.shift() ?? (await page());
    if (p.keys.length === 0) break;
    part.addSync(p.keys, p.flat);
    progress?.tick(p.keys.length);
  }
  progress?.finish();
}
