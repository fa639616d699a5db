import { Index, MetricKind, ScalarKind } from 'usearch';
import { project, quantizeI8, type Projection } from './projection.ts';

/**
 * The 1:N index is split into partitions (a region, a merchant group). A search goes to the
 * partitions a terminal may see and the router merges their answers. Every method is async, and
 * a search answers with the partition's size at that moment, so that a partition can later live
 * in another process or on another node behind the same interface.
 */
export interface Hit {
  /** The template's numeric key (`gallery_templates.template_key`). */
  key: number;
  /** Cosine similarity as the index computed it (on quantised vectors): a ranking, not a decision. */
  approxScore: number;
}

export interface PartitionSearch {
  hits: Hit[];
  /** Templates in the partition when it was searched: the N of the decision's threshold. */
  size: number;
}

export interface GalleryPartition {
  readonly id: string;
  search(vector: Float32Array, k: number): Promise<PartitionSearch>;
  /** Adds templates; `vectors` holds keys.length rows of `dim` floats. Keys already present are skipped. */
  add(keys: readonly number[], vectors: Float32Array): Promise<void>;
  remove(keys: readonly number[]): Promise<void>;
  size(): Promise<number>;
}

export interface AnnParams {
  /** Dimensions of the templates. */
  dim: number;
  /**
   * Dimensions the index holds. Templates with more are projected onto their partition's principal
   * directions (`projection.ts`) once the partition has `learnAt` templates to learn them from; the
   * exact re-score still uses the full stored templates. Default: `dim` (no projection).
   */
  indexDim?: number;
  /** Templates a partition needs before a rebuild learns its projection; a smaller one indexes full templates. */
  learnAt?: number;
  /** HNSW links per node (twice as many on the base layer). */
  connectivity: number;
  expansionAdd: number;
  expansionSearch: number;
  /**
   * How the index stores vectors. `i8` (one byte a dimension) keeps a million 128-d templates
   * near 400 bytes each, graph included (README, Index); the exact re-score from the stored templates then
   * corrects the ranking among the candidates.
   */
  quantization: 'i8' | 'f16' | 'f32';
  /** Threads for bulk adds (searches use one: a payment is one query). */
  threads: number;
}

export const DEFAULT_ANN: Omit<AnnParams, 'dim'> = {
  // 128: a 512-d ArcFace template keeps 97 % of its squared length on its 128 principal directions
  // (the model's embeddings span only about 150), and the index then costs what the 128-d model's
  // did (README, Index).
  indexDim: 128,
  learnAt: 4096,
  connectivity: 16,
  // Face embeddings sit in a narrow cone (this face engine's strangers score 0.84 on average), where
  // the graph is hard to walk: at a million templates, expansion 64 on add gave recall@1 0.90 at
  // 256 on search (bench:gallery), so the build pays for a better graph.
  expansionAdd: 200,
  // 512 rather than 256: at a million templates it found every real person whose exact best score
  // could pass a threshold (148 of 148, against 145) for about 1 ms more per search, which is
  // nothing beside the 200 ms of face analysis before it; a shopper the index misses is told to
  // pay another way.
  expansionSearch: 512,
  quantization: 'i8',
  threads: 2,
};

/** The in-process partition: a usearch HNSW index. */
export class LocalPartition implements GalleryPartition {
  private index: Index;
  /** Sum of the keys present: with the count, a cheap fingerprint to check against the database. */
  private keySumValue = 0;
  private projectionValue: Projection | undefined;

  constructor(
    readonly id: string,
    readonly params: AnnParams,
  ) {
    this.index = this.make();
  }

  /** The projection the index uses, if any (set by `clear`, or by `loadFrom` with a snapshot). */
  get projection(): Projection | undefined {
    return this.projectionValue;
  }

  /** Dimensions of the vectors in the index. */
  get storedDim(): number {
    return this.projectionValue?.outDim ?? this.params.dim;
  }

  /** Whether a rebuild from `count` templates should learn a projection. */
  wantsProjection(count: number): boolean {
    const target = this.params.indexDim ?? this.params.dim;
    return target < this.params.dim && count >= (this.params.learnAt ?? 0);
  }

  private make(): Index {
    return new Index({
      dimensions: this.storedDim,
      metric: MetricKind.Cos,
      quantization: this.params.quantization as ScalarKind,
      connectivity: this.params.connectivity,
      expansion_add: this.params.expansionAdd,
      expansion_search: this.params.expansionSearch,
      multi: false,
    });
  }

  get keySum(): number {
    return this.keySumValue;
  }

  count(): number {
    return this.index.size();
  }

  has(key: number): boolean {
    return this.index.contains(BigInt(key)) === true;
  }

  async size(): Promise<number> {
    return this.index.size();
  }

  async search(vector: Float32Array, k: number): Promise<PartitionSearch> {
    return this.searchSync(vector, k);
  }

  searchSync(vector: Float32Array, k: number): PartitionSearch {
    const size = this.index.size();
    if (size === 0) return { hits: [], size };
    const m = this.index.search(this.toIndex(vector), Math.min(k, size), 1);
    const hits: Hit[] = [];
    for (let i = 0; i < m.keys.length; i++) hits.push({ key: Number(m.keys[i]), approxScore: 1 - (m.distances[i] ?? 1) });
    return { hits, size };
  }

  async add(keys: readonly number[], vectors: Float32Array): Promise<void> {
    this.addSync(keys, vectors);
  }

  addSync(keys: readonly number[], vectors: Float32Array): void {
    const dim = this.params.dim;
    if (vectors.length !== keys.length * dim) throw new Error(`expected ${keys.length} vectors of ${dim} floats`);
    const fresh: number[] = [];
    const rows: number[] = [];
    keys.forEach((key, i) => {
      if (!this.has(key)) {
        fresh.push(key);
        rows.push(i);
      }
    });
    if (fresh.length === 0) return;
    const out = this.storedDim;
    const data = this.params.quantization === 'i8' ? new Int8Array(fresh.length * out) : new Float32Array(fresh.length * out);
    rows.forEach((r, j) => data.set(this.toIndex(vectors.subarray(r * dim, (r + 1) * dim)), j * out));
    this.index.add(BigUint64Array.from(fresh, (k) => BigInt(k)), data, this.params.threads);
    for (const k of fresh) this.keySumValue += k;
  }

  /** A template as the index holds it: projected when the partition has a projection, and quantised here for `i8`. */
  private toIndex(v: Float32Array): Float32Array | Int8Array {
    const p = this.projectionValue;
    const x = p === undefined ? v : project(p, v);
    return this.params.quantization === 'i8' ? quantizeI8(x) : x;
  }

  async remove(keys: readonly number[]): Promise<void> {
    this.removeSync(keys);
  }

  removeSync(keys: readonly number[]): void {
    for (const key of keys) {
      if (this.index.remove(BigInt(key)) === 1) this.keySumValue -= key;
    }
  }

  /** Writes the index to a file (the snapshot module encrypts it). */
  saveTo(path: string): void {
    this.index.save(path);
  }

  /** Replaces the contents with a saved index (made with `projection`) whose key sum the caller vouches for. */
  loadFrom(path: string, keySum: number, projection: Projection | undefined): void {
    this.checkProjection(projection);
    const before = this.projectionValue;
    this.projectionValue = projection;
    try {
      const fresh = this.make();
      fresh.load(path);
      this.index = fresh;
      this.keySumValue = keySum;
    } catch (e) {
      this.projectionValue = before;
      throw e;
    }
  }

  /** Empties the partition; the templates added next are projected with `projection` (none: stored whole). */
  clear(projection?: Projection): void {
    this.checkProjection(projection);
    this.projectionValue = projection;
    this.index = this.make();
    this.keySumValue = 0;
  }

  private checkProjection(p: Projection | undefined): void {
    if (p !== undefined && (p.inDim !== this.params.dim || p.outDim >= this.params.dim)) {
      throw new Error(`a projection from ${p.inDim} to ${p.outDim} dimensions does not fit templates of ${this.params.dim}`);
    }
  }
}

export interface RoutedHit extends Hit {
  partitionId: string;
}

/**
 * Fans a search out to partitions and merges the answers by score. Partitions are created on
 * first use through the factory, which is where a remote partition would be plugged in.
 */
export class PartitionRouter<P extends GalleryPartition = GalleryPartition> {
  private readonly parts = new Map<string, P>();

  constructor(private readonly factory: (id: string) => P) {}

  get(id: string): P {
    let p = this.parts.get(id);
    if (p === undefined) {
      p = this.factory(id);
      this.parts.set(id, p);
    }
    return p;
  }

  ids(): string[] {
    return [...this.parts.keys()].sort();
  }

  all(): P[] {
    return this.ids().map((id) => this.get(id));
  }

  async search(vector: Float32Array, k: number, partitionIds: readonly string[]): Promise<{ hits: RoutedHit[]; size: number }> {
    const known = partitionIds.filter((id) => this.parts.has(id));
    const answers = await Promise.all(known.map(async (id) => ({ id, r: await this.get(id).search(vector, k) })));
    const hits: RoutedHit[] = [];
    let size = 0;
    for (const { id, r } of answers) {
      size += r.size;
      for (const h of r.hits) hits.push({ ...h, partitionId: id });
    }
    hits.sort((a, b) => b.approxScore - a.approxScore);
    return { hits: hits.slice(0, k), size };
  }
}
