import { Index, MetricKind, ScalarKind } from 'usearch';
import { ExactStore } from './exact.ts';
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
  /** Threads for bulk adds, and for the exact scan of a partition of at least `parallelFrom` templates. */
  threads: number;
  /**
   * Templates from which the exact scan is given `threads` threads (default `DEFAULT_PARALLEL_FROM`:
   * never, see there).
   */
  parallelFrom?: number;
}

/** How a partition is searched: an exact scan of every template, or the HNSW graph. */
export type SearchMethod = 'exact' | 'hnsw';

/**
 * Off by default: usearch 2.25's `exactSearch` spreads a batch of queries over its threads, not
 * one query over the dataset, and a payment is one query. Measured at a million 128-d int8
 * templates (bench:gallery --slab): the quickest scan took 17.0 ms on one thread and 18.6 ms with
 * `threads` 2. Two cores then serve two payments at once rather than one twice as fast.
 */
export const DEFAULT_PARALLEL_FROM = Number.POSITIVE_INFINITY;

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

/**
 * The in-process partition. `exact`: the projected int8 templates in one contiguous slab,
 * searched by usearch's SIMD exact scan, so the candidates are the true best on those vectors;
 * `hnsw`: a usearch HNSW graph, for a partition too large to scan within the latency budget.
 * Both answer deletions at once (the next search cannot return a removed key).
 */
export class LocalPartition implements GalleryPartition {
  private graph: Index | undefined;
  private slab: ExactStore | undefined;
  /** Sum of the keys present: with the count, a cheap fingerprint to check against the database. */
  private keySumValue = 0;
  private projectionValue: Projection | undefined;

  constructor(
    readonly id: string,
    readonly params: AnnParams,
    readonly method: SearchMethod = 'hnsw',
  ) {
    this.make();
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

  private make(): void {
    if (this.method === 'exact') {
      this.graph = undefined;
      this.slab = new ExactStore(this.storedDim, this.params.quantization === 'i8' ? 'i8' : 'f32');
      return;
    }
    this.slab = undefined;
    this.graph = this.makeGraph();
  }

  private makeGraph(): Index {
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
    return this.slab?.size ?? this.graph?.size() ?? 0;
  }

  has(key: number): boolean {
    if (this.slab !== undefined) return this.slab.has(key);
    return this.graph?.contains(BigInt(key)) === true;
  }

  async size(): Promise<number> {
    return this.count();
  }

  async search(vector: Float32Array, k: number): Promise<PartitionSearch> {
    return this.searchSync(vector, k);
  }

  searchSync(vector: Float32Array, k: number): PartitionSearch {
    const size = this.count();
    if (size === 0) return { hits: [], size };
    const q = this.toIndex(vector);
    if (this.slab !== undefined) {
      const threads = size >= (this.params.parallelFrom ?? DEFAULT_PARALLEL_FROM) ? Math.max(1, this.params.threads) : 1;
      return { hits: this.slab.search(q, Math.min(k, size), threads), size };
    }
    const m = (this.graph as Index).search(q, Math.min(k, size), 1);
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
    const seen = new Set<number>();
    keys.forEach((key, i) => {
      if (!this.has(key) && !seen.has(key)) {
        seen.add(key);
        fresh.push(key);
        rows.push(i);
      }
    });
    if (fresh.length === 0) return;
    const out = this.storedDim;
    const data = this.params.quantization === 'i8' ? new Int8Array(fresh.length * out) : new Float32Array(fresh.length * out);
    rows.forEach((r, j) => data.set(this.toIndex(vectors.subarray(r * dim, (r + 1) * dim)), j * out));
    if (this.slab !== undefined) this.slab.add(fresh, data);
    else (this.graph as Index).add(BigUint64Array.from(fresh, (k) => BigInt(k)), data, this.params.threads);
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
      const gone = this.slab !== undefined ? this.slab.remove(key) : (this.graph as Index).remove(BigInt(key)) === 1;
      if (gone) this.keySumValue -= key;
    }
  }

  /** Writes the index to a file (the snapshot module encrypts it). */
  saveTo(path: string): void {
    if (this.slab !== undefined) this.slab.writeFile(path);
    else (this.graph as Index).save(path);
  }

  /** Replaces the contents with a saved index (made with `projection`) whose key sum the caller vouches for. */
  loadFrom(path: string, keySum: number, projection: Projection | undefined): void {
    this.checkProjection(projection);
    const before = this.projectionValue;
    this.projectionValue = projection;
    try {
      if (this.method === 'exact') {
        const store = ExactStore.fromFile(path);
        if (store.dim !== this.storedDim || store.kind !== (this.params.quantization === 'i8' ? 'i8' : 'f32')) throw new Error('the saved slab does not fit this partition');
        this.slab = store;
      } else {
        const fresh = this.makeGraph();
        fresh.load(path);
        this.graph = fresh;
      }
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
    this.make();
    this.keySumValue = 0;
  }

  /** Bytes the index holds for its vectors and keys (the exact slab only; the graph does not say). */
  memoryBytes(): number | undefined {
    return this.slab?.memoryBytes();
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
