/**
 * Embeddings of dataset images for the benches, cached per model version so a rerun is quick.
 * Work in progress is checkpointed to CACHE.partial (an interrupted run resumes) and the cache
 * file itself is only ever written whole.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { embedFiles, readJsonl, writeJsonl, type EmbeddingLine, type FaceEngine } from '../src/face/index.ts';
import { Progress } from '../src/platform/index.ts';

export interface EmbedCacheOptions {
  /** The folder the paths are relative to. */
  root: string;
  cacheFile: string;
  label: string;
  concurrency: number;
  log: (line: string) => void;
  /** Keep the passive-liveness signals too (lines without them are embedded again). */
  signals?: boolean;
  /** Other cache files to take lines from (a full cache read by a quick run). */
  alsoRead?: string[];
  /** false: the paths are not the whole set the cache file stands for, so only the checkpoint is written. */
  complete?: boolean;
}

export async function cachedEmbeddings(engine: FaceEngine, paths: string[], o: EmbedCacheOptions): Promise<Map<string, EmbeddingLine>> {
  const have = new Map<string, EmbeddingLine>();
  const partial = `${o.cacheFile}.partial`;
  const wanted = new Set(paths);
  const complete = o.complete ?? true;
  for (const f of [...(o.alsoRead ?? []), o.cacheFile, partial]) {
    if (!existsSync(f)) continue;
    for (const l of await readJsonl<EmbeddingLine>(f)) {
      if (!wanted.has(l.path)) continue;
      if ('error' in l || (l.version === engine.model.version && (!o.signals || l.signals))) have.set(l.path, l);
    }
  }
  const missing = paths.filter((p) => !have.has(p));
  if (missing.length > 0) {
    o.log(`  embedding ${missing.length} ${o.label} images with ${engine.model.name} (${have.size} cached)`);
    const progress = new Progress(`  ${o.label}`, missing.length, process.stderr);
    const CHUNK = 500;
    for (let c = 0; c < missing.length; c += CHUNK) {
      const part = missing.slice(c, c + CHUNK);
      const lines = await embedFiles(
        engine,
        part.map((p) => join(o.root, p)),
        { label: (f) => f.slice(o.root.length + 1), onDone: () => progress.tick(), concurrency: o.concurrency, signals: o.signals ?? false },
      );
      for (const l of lines) have.set(l.path, l);
      if (c + CHUNK < missing.length || !complete) await writeJsonl(partial, [...have.values()]);
    }
    progress.finish();
    if (complete) {
      await writeJsonl(o.cacheFile, [...have.values()]);
      rmSync(partial, { force: true });
    }
  }
  return have;
}

export const embeddingOf = (l: EmbeddingLine | undefined): number[] | null => (l && !('error' in l) ? l.embedding : null);
