import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { isDomainError } from '../platform/index.ts';
import type { FaceEngine } from './engine.ts';

/** One line of an embeddings file (`facepay face embed`, and the bench's LFW cache). */
export type EmbeddingLine =
  | {
      path: string;
      name: string;
      model: string;
      version: string;
      embedding: number[];
      liveness: number;
      /** the raw passive-liveness signals (for training and measuring the liveness decision) */
      signals?: Record<string, number>;
      quality: { ok: boolean; reason: string | null; faceSizePx: number; yaw: number; pitch: number; sharpness: number; brightness: number };
      faces: number;
    }
  | { path: string; name: string; error: { code: string } };

/** The identity a file belongs to by convention: the name of the folder it is in (as in LFW). */
export function nameOf(path: string): string {
  return basename(dirname(path));
}

const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/**
 * Embeds many files through the engine, as many at a time as it has workers, and returns one line
 * per file in input order. `label` gives the path written on each line (e.g. relative to a dataset).
 */
export async function embedFiles(
  engine: FaceEngine,
  files: string[],
  opts: { label?: (file: string) => string; onDone?: () => void; concurrency?: number; signals?: boolean } = {},
): Promise<EmbeddingLine[]> {
  const out: EmbeddingLine[] = new Array(files.length);
  let next = 0;
  const label = opts.label ?? ((f: string) => f);
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      const file = files[i]!;
      const path = label(file);
      try {
        const bytes = await readFile(file);
        const a = await engine.analyze(bytes, { purpose: 'inspect', transfer: true });
        if (!a.embedding || !a.quality) out[i] = { path, name: nameOf(path), error: { code: a.error?.code ?? 'no_face' } };
        else
          out[i] = {
            path,
            name: nameOf(path),
            model: a.model.name,
            version: a.model.version,
            embedding: Array.from(a.embedding, r6),
            liveness: r6(a.liveness?.score ?? 0),
            ...(opts.signals && a.liveness ? { signals: Object.fromEntries(Object.entries(a.liveness.signals).map(([k, v]) => [k, r6(v)])) } : {}),
            quality: {
              ok: a.quality.ok,
              reason: a.quality.reason,
              faceSizePx: a.quality.faceSizePx,
              yaw: Math.round(a.quality.pose.yaw * 10) / 10,
              pitch: Math.round(a.quality.pose.pitch * 10) / 10,
              sharpness: a.quality.sharpness,
              brightness: a.quality.brightness,
            },
            faces: a.faces.length,
          };
      } catch (e) {
        out[i] = { path, name: nameOf(path), error: { code: isDomainError(e) ? e.code : 'image_unreadable' } };
      }
      opts.onDone?.();
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker));
  return out;
}

/** Writes lines atomically: to FILE.tmp, then renamed, so that readers never see half a file. */
export async function writeJsonl(file: string, lines: unknown[]): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  await rename(tmp, file);
}

export async function readJsonl<T>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}
