import { createHash } from 'node:crypto';

/**
 * A linear projection of templates onto fewer dimensions, for the index only: a 512-d template
 * quantised to one byte a dimension is 512 bytes, more than the whole memory budget of a template
 * (README, Index), so the index holds the template's coordinates on the partition's principal
 * directions instead, and the exact re-score of the candidates uses the full stored vectors.
 *
 * The directions are the top eigenvectors of the templates' second-moment matrix (not the
 * covariance: the index ranks by inner product, and the uncentred moment is what keeps inner
 * products best in few dimensions; with no more templates than dimensions it keeps them exactly).
 * Learning is deterministic: the same templates in the same order give the same bytes. The basis is
 * derived from templates, so it is saved only encrypted, with the snapshot.
 */
export interface Projection {
  inDim: number;
  outDim: number;
  /** outDim rows of inDim values, the strongest direction first. */
  basis: Float32Array;
  /** How many templates it was learned from. */
  samples: number;
  /** Share of the templates' squared length the kept directions hold (1 = nothing lost). */
  kept: number;
  /** SHA-256 of the basis: the snapshot's metadata names it, so an index loads only with its own projection. */
  fingerprint: string;
}

/** Learns the projection from `vectors` (rows of `inDim` values, unit length). */
export function learnProjection(vectors: Float32Array, inDim: number, outDim: number): Projection {
  if (outDim > inDim) throw new Error(`cannot project ${inDim} dimensions onto ${outDim}`);
  const n = Math.floor(vectors.length / inDim);
  if (n === 0) throw new Error('a projection needs at least one template');
  // The second-moment matrix, lower triangle, summed in row order so the result is reproducible.
  const m = new Float64Array(inDim * inDim);
  const row = new Float64Array(inDim);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < inDim; k++) row[k] = vectors[i * inDim + k] ?? 0;
    for (let a = 0; a < inDim; a++) {
      const ra = row[a] ?? 0;
      if (ra === 0) continue;
      const base = a * inDim;
      for (let b = 0; b <= a; b++) m[base + b] = (m[base + b] ?? 0) + ra * (row[b] ?? 0);
    }
  }
  for (let a = 0; a < inDim; a++) {
    for (let b = 0; b < a; b++) m[b * inDim + a] = m[a * inDim + b] ?? 0;
  }
  const { values, vectors: v } = symmetricEigen(m, inDim);
  const basis = new Float32Array(outDim * inDim);
  let total = 0;
  for (let j = 0; j < inDim; j++) total += Math.max(0, values[j] ?? 0);
  let kept = 0;
  for (let r = 0; r < outDim; r++) {
    // Eigenvalues come in ascending order: the strongest direction is the last column.
    const col = inDim - 1 - r;
    kept += Math.max(0, values[col] ?? 0);
    // An eigenvector's sign is arbitrary; fixing it (largest component positive) makes the bytes reproducible across builds of the same maths.
    let big = 0;
    for (let k = 0; k < inDim; k++) {
      const x = v[k * inDim + col] ?? 0;
      if (Math.abs(x) > Math.abs(big)) big = x;
    }
    const sign = big < 0 ? -1 : 1;
    for (let k = 0; k < inDim; k++) basis[r * inDim + k] = sign * (v[k * inDim + col] ?? 0);
  }
  return withFingerprint({ inDim, outDim, basis, samples: n, kept: total > 0 ? kept / total : 1 });
}

function withFingerprint(p: Omit<Projection, 'fingerprint'>): Projection {
  const h = createHash('sha256').update(`${p.inDim}x${p.outDim}:${p.samples}:`).update(Buffer.from(p.basis.buffer, p.basis.byteOffset, p.basis.byteLength));
  return { ...p, fingerprint: h.digest('hex') };
}

/** `out` = the projection of `v` (inDim values). */
export function project(p: Projection, v: Float32Array, out: Float32Array = new Float32Array(p.outDim)): Float32Array {
  const { inDim, outDim, basis } = p;
  for (let r = 0; r < outDim; r++) {
    let s = 0;
    const base = r * inDim;
    for (let k = 0; k < inDim; k++) s += (basis[base + k] ?? 0) * (v[k] ?? 0);
    out[r] = s;
  }
  return out;
}

/** Bytes for the snapshot (little-endian): a small header, then the basis as float32. */
export function projectionToBytes(p: Projection): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0x6a6f7270, 0); // "proj"
  head.writeUInt32LE(p.inDim, 4);
  head.writeUInt32LE(p.outDim, 8);
  head.writeUInt32LE(p.samples, 12);
  head.writeDoubleLE(p.kept, 16);
  const body = Buffer.alloc(p.basis.length * 4);
  p.basis.forEach((x, i) => body.writeFloatLE(x, i * 4));
  return Buffer.concat([head, body]);
}

export function projectionFromBytes(b: Buffer): Projection {
  if (b.length < 24 || b.readUInt32LE(0) !== 0x6a6f7270) throw new Error('not a projection');
  const inDim = b.readUInt32LE(4);
  const outDim = b.readUInt32LE(8);
  if (b.length !== 24 + inDim * outDim * 4) throw new Error('projection has the wrong length');
  const basis = new Float32Array(inDim * outDim);
  for (let i = 0; i < basis.length; i++) basis[i] = b.readFloatLE(24 + i * 4);
  return withFingerprint({ inDim, outDim, basis, samples: b.readUInt32LE(12), kept: b.readDoubleLE(16) });
}

/**
 * One byte a dimension, scaled so the largest coordinate is ±127 and rounded. Cosine ignores the
 * scale, so this uses the whole byte range; usearch's own cast scales the unit vector by 127 and
 * truncates, which leaves a 128-d template's typical coordinate about 11 steps wide.
 */
export function quantizeI8(v: Float32Array, out: Int8Array = new Int8Array(v.length)): Int8Array {
  let max = 0;
  for (const x of v) max = Math.max(max, Math.abs(x));
  const s = max > 0 ? 127 / max : 0;
  for (let i = 0; i < v.length; i++) out[i] = Math.round((v[i] ?? 0) * s);
  return out;
}

/**
 * Eigenvalues (ascending) and eigenvectors (column j of the row-major n x n `vectors`) of a
 * symmetric matrix: Householder reduction to tridiagonal form, then the implicit QL algorithm
 * (tred2 and tql2 of EISPACK, as in JAMA). O(n^3), about a second in JavaScript for n = 512.
 */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const V = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const at = (r: number, c: number): number => V[r * n + c] as number;
  const set = (r: number, c: number, x: number): void => {
    V[r * n + c] = x;
  };
  // tred2
  for (let j = 0; j < n; j++) d[j] = at(n - 1, j);
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k] as number);
    if (scale === 0) {
      e[i] = d[i - 1] as number;
      for (let j = 0; j < i; j++) {
        d[j] = at(i - 1, j);
        set(i, j, 0);
        set(j, i, 0);
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = (d[k] as number) / scale;
        h += (d[k] as number) * (d[k] as number);
      }
      let f = d[i - 1] as number;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j] as number;
        set(j, i, f);
        g = (e[j] as number) + at(j, j) * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += at(k, j) * (d[k] as number);
          e[k] = (e[k] as number) + at(k, j) * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = (e[j] as number) / h;
        f += (e[j] as number) * (d[j] as number);
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = (e[j] as number) - hh * (d[j] as number);
      for (let j = 0; j < i; j++) {
        f = d[j] as number;
        g = e[j] as number;
        for (let k = j; k <= i - 1; k++) set(k, j, at(k, j) - (f * (e[k] as number) + g * (d[k] as number)));
        d[j] = at(i - 1, j);
        set(i, j, 0);
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    set(n - 1, i, at(i, i));
    set(i, i, 1);
    const h = d[i + 1] as number;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = at(k, i + 1) / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += at(k, i + 1) * at(k, j);
        for (let k = 0; k <= i; k++) set(k, j, at(k, j) - g * (d[k] as number));
      }
    }
    for (let k = 0; k <= i; k++) set(k, i + 1, 0);
  }
  for (let j = 0; j < n; j++) {
    d[j] = at(n - 1, j);
    set(n - 1, j, 0);
  }
  set(n - 1, n - 1, 1);
  e[0] = 0;
  // tql2
  for (let i = 1; i < n; i++) e[i - 1] = e[i] as number;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l] as number) + Math.abs(e[l] as number));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m] as number) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      do {
        let g = d[l] as number;
        let p = ((d[l + 1] as number) - g) / (2 * (e[l] as number));
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = (e[l] as number) / (p + r);
        d[l + 1] = (e[l] as number) * (p + r);
        const dl1 = d[l + 1] as number;
        let h = g - (d[l] as number);
        for (let i = l + 2; i < n; i++) d[i] = (d[i] as number) - h;
        f += h;
        p = d[m] as number;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1] as number;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * (e[i] as number);
          h = c * p;
          r = Math.hypot(p, e[i] as number);
          e[i + 1] = s * r;
          s = (e[i] as number) / r;
          c = p / r;
          p = c * (d[i] as number) - s * g;
          d[i + 1] = h + s * (c * g + s * (d[i] as number));
          for (let k = 0; k < n; k++) {
            const base = k * n;
            h = V[base + i + 1] as number;
            const vi = V[base + i] as number;
            V[base + i + 1] = s * vi + c * h;
            V[base + i] = c * vi - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * (e[l] as number)) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l] as number) > eps * tst1);
    }
    d[l] = (d[l] as number) + f;
    e[l] = 0;
  }
  // Ascending eigenvalues, their vectors with them.
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i] as number;
    for (let j = i + 1; j < n; j++) {
      if ((d[j] as number) < p) {
        k = j;
        p = d[j] as number;
      }
    }
    if (k !== i) {
      d[k] = d[i] as number;
      d[i] = p;
      for (let j = 0; j < n; j++) {
        const t = at(j, i);
        set(j, i, at(j, k));
        set(j, k, t);
      }
    }
  }
  return { values: d, vectors: V };
}
