/** The gallery's shared checks: an embedding fit to search or store, and whether a stored row is of the gallery's model. */
import { DomainError } from '../platform/index.ts';
import type { Embedding, ModelRef } from './types.ts';

/** Checks model and size, and returns a unit-length copy. */
export function checkEmbedding(e: Embedding, model: ModelRef, dim: number): Float32Array {
  if (e.model.name !== model.name || e.model.version !== model.version) {
    throw new DomainError('invalid', 'model_mismatch', `embedding from ${e.model.name}@${e.model.version}, the gallery holds ${model.name}@${model.version}`);
  }
  if (e.vector.length !== dim) throw new DomainError('invalid', 'bad_embedding', `embedding has ${e.vector.length} values, expected ${dim}`);
  let n = 0;
  for (const x of e.vector) n += x * x;
  if (!Number.isFinite(n) || n < 1e-12) throw new DomainError('invalid', 'bad_embedding', 'embedding is zero or not finite');
  const inv = 1 / Math.sqrt(n);
  return Float32Array.from(e.vector, (x) => x * inv);
}

/** Whether a stored template was made by this model (templates of other models are kept but never indexed). */
export function ofModel(row: { modelName: string; modelVersion: string }, model: ModelRef): boolean {
  return row.modelName === model.name && row.modelVersion === model.version;
}
