import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { exactSearch, MetricKind } from 'usearch';
import type { Hit, SearchMethod } from './partition.ts';

type Slab = Int8Array | Float32Array;

const MAGIC = 0x46504558; // "FPEX"
const HEADER = 16;

/**
 * A partition's templates for the exact scan: one contiguous slab of vectors (int8 or float32),
 * the key of each slot, and a key-to-slot map. A removal moves the last slot into the hole, so the
 * slab stays dense and the next scan no longer sees the removed key. At a million 128-d int8
 * templates this holds 128 bytes of vector, 8 of key and the map's entry per template.
 */
export class ExactStore {
  private slab: Slab;
  private keys: Float64Array;
  private readonly slots = new Map<number, number>();
  private n = 0;

  constructor(
    readonly dim: number,
    readonly kind: 'i8' | 'f32',
    capacity = 1024,
  ) {
    this.slab = this.alloc(capacity * dim);
    this.keys = new Float64Array(capacity);
  }

  private alloc(length: number): Slab {
    return this.kind === 'i8' ? new Int8Array(length) : new Float32Array(length);
  }

  get size(): number {
    return this.n;
  }

  has(key: number): boolean {
    return this.slots.has(key);
  }

  private reserve(extra: number): void {
    const need = this.n + extra;
    if (need <= this.keys.length) return;
    // A quarter more rather than double: at a million templates doubling would hold 128 MB idle.
    const cap = Math.max(need, Math.ceil(this.keys.length * 1.25), 1024);
    const slab = this.alloc(cap * this.dim);
    slab.set(this.slab.subarray(0, this.n * this.dim));
    const keys = new Float64Array(cap);
    keys.set(this.keys.subarray(0, this.n));
    this.slab = slab;
    this.keys = keys;
  }

  /** Adds rows of `dim` values (the caller skips keys already present). */
  add(keys: readonly number[], data: Slab): void {
    if (data.length !== keys.length * this.dim) throw new Error(`expected ${keys.length} vectors of ${this.dim} values`);
    this.reserve(keys.length);
    keys.forEach((key, j) => {
      this.slab.set(data.subarray(j * this.dim, (j + 1) * this.dim), this.n * this.dim);
      this.keys[this.n] = key;
      this.slots.set(key, this.n);
      this.n++;
    });
  }

  remove(key: number): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    const last = this.n - 1;
    if (slot !== last) {
      this.slab.copyWithin(slot * this.dim, last * this.dim, (last + 1) * this.dim);
      const moved = this.keys[last] as number;
      this.keys[slot] = moved;
      this.slots.set(moved, slot);
    }
    this.slots.delete(key);
    this.n = last;
    return true;
  }

  /** The k best by cosine on the stored vectors, best first. */
  search(query: Slab, k: number, threads: number): Hit[] {
    if (this.n === 0 || k <= 0) return [];
    const m = exactSearch(this.slab.subarray(0, this.n * this.dim), query, this.dim, Math.min(k, this.n), MetricKind.Cos, threads) as unknown as {
      keys: BigUint64Array;
      distances: Float32Array;
    };
    const hits: Hit[] = [];
    for (let i = 0; i < m.keys.length; i++) hits.push({ key: this.keys[Number(m.keys[i])] as number, approxScore: 1 - (m.distances[i] ?? 1) });
    return hits;
  }

  /** Bytes held for vectors and keys, allocated capacity included (the map's entries not). */
  memoryBytes(): number {
    return this.slab.byteLength + this.keys.byteLength;
  }

  /** Header (magic, dim, kind, count), the keys as float64, then the vectors. */
  toBytes(): Buffer {
    return Buffer.concat(this.parts());
  }

  /** Reads a slab written by `toBytes` straight into its arrays (no second copy of a large file in memory). */
  static fromFile(path: string): ExactStore {
    const fd = openSync(path, 'r');
    try {
      const head = Buffer.alloc(HEADER);
      if (readSync(fd, head, 0, HEADER, 0) !== HEADER || head.readUInt32LE(0) !== MAGIC) throw new Error('not an exact gallery slab');
      const dim = head.readUInt32LE(4);
      const width = head.readUInt32LE(8);
      const n = head.readUInt32LE(12);
      if ((width !== 1 && width !== 4) || fstatSync(fd).size !== HEADER + n * 8 + n * dim * width) throw new Error('the exact gallery slab is truncated');
      const s = new ExactStore(dim, width === 1 ? 'i8' : 'f32', n + Math.ceil(n / 16));
      const readAll = (into: Uint8Array, at: number): void => {
        let done = 0;
        while (done < into.length) {
          const got = readSync(fd, into, done, into.length - done, at + done);
          if (got <= 0) throw new Error('the exact gallery slab is truncated');
          done += got;
        }
      };
      readAll(new Uint8Array(s.keys.buffer, 0, n * 8), HEADER);
      readAll(new Uint8Array(s.slab.buffer, 0, n * dim * width), HEADER + n * 8);
      s.index(n);
      return s;
    } finally {
      closeSync(fd);
    }
  }

  private index(n: number): void {
    for (let i = 0; i < n; i++) this.slots.set(this.keys[i] as number, i);
    if (this.slots.size !== n) throw new Error('the exact gallery slab repeats a key');
    this.n = n;
  }

  /** Writes what `toBytes` gives, from the arrays themselves (no copy of the slab). */
  writeFile(path: string): void {
    const fd = openSync(path, 'w', 0o600);
    try {
      for (const part of this.parts()) {
        let done = 0;
        while (done < part.length) done += writeSync(fd, part, done, part.length - done);
      }
    } finally {
      closeSync(fd);
    }
  }

  private parts(): Uint8Array[] {
    const head = Buffer.alloc(HEADER);
    head.writeUInt32LE(MAGIC, 0);
    head.writeUInt32LE(this.dim, 4);
    head.writeUInt32LE(this.kind === 'i8' ? 1 : 4, 8);
    head.writeUInt32LE(this.n, 12);
    return [head, new Uint8Array(this.keys.buffer, 0, this.n * 8), new Uint8Array(this.slab.buffer, 0, this.n * this.dim * this.slab.BYTES_PER_ELEMENT)];
  }

  static fromBytes(b: Buffer): ExactStore {
    if (b.length < HEADER || b.readUInt32LE(0) !== MAGIC) throw new Error('not an exact gallery slab');
    const dim = b.readUInt32LE(4);
    const width = b.readUInt32LE(8);
    const n = b.readUInt32LE(12);
    if ((width !== 1 && width !== 4) || b.length !== HEADER + n * 8 + n * dim * width) throw new Error('the exact gallery slab is truncated');
    // Room for a sixteenth more before the first growth.
    const s = new ExactStore(dim, width === 1 ? 'i8' : 'f32', n + Math.ceil(n / 16));
    const keys = new Float64Array(n);
    Buffer.from(keys.buffer).set(b.subarray(HEADER, HEADER + n * 8));
    s.keys.set(keys);
    Buffer.from(s.slab.buffer).set(b.subarray(HEADER + n * 8));
    s.index(n);
    return s;
  }
}

/** Templates the rate is measured on: 256 thousand 128-d int8 vectors (32 MB) are past the CPU caches, as a large partition is. */
const RATE_SAMPLE = 262_144;

/**
 * Templates per millisecond the exact scan goes through on this machine, on `threads` threads: the
 * median of a few scans of pseudo-random vectors (they cost the SIMD kernel what templates do).
 */
export function measureExactScanRate(dim: number, kind: 'i8' | 'f32', threads: number, sample = RATE_SAMPLE): number {
  const store = new ExactStore(dim, kind, sample);
  const data = kind === 'i8' ? new Int8Array(sample * dim) : new Float32Array(sample * dim);
  let x = 0x9e3779b9;
  for (let i = 0; i < data.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = (x & 0xff) - 128;
  }
  store.add(
    Array.from({ length: sample }, (_, i) => i),
    data,
  );
  const q = data.subarray(0, dim);
  const times: number[] = [];
  store.search(q, 16, threads);
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    store.search(q, 16, threads);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return sample / Math.max(1e-3, times[3] as number);
}

/** Exact when a scan of the partition fits the budget at the measured rate, else the graph. */
export function chooseMethod(templates: number, scanRatePerMs: number, budgetMs: number): SearchMethod {
  return templates / scanRatePerMs <= budgetMs ? 'exact' : 'hnsw';
}
