import { createCipheriv, createDecipheriv } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Random } from '../platform/index.ts';
import type { LocalPartition } from './partition.ts';
import { projectionFromBytes, projectionToBytes, type Projection } from './projection.ts';

/**
 * A saved index holds the templates' vectors (quantised), so it is encrypted like them: AES-256-GCM
 * under the active data key, with its metadata (the last event it includes, count and key sum)
 * as associated data. usearch only reads and writes files, so the plain index passes through a
 * scratch file in memory (/dev/shm) that is deleted at once. The index's projection, if it has one,
 * is learned from templates too and goes beside it in its own file, encrypted the same way; the
 * metadata names it by fingerprint and the index is loaded only with that projection.
 */
export interface SnapshotMeta {
  /** 2: the projection and `indexDim` (format 1 snapshots are rebuilt). */
  format: 2;
  model: string;
  version: string;
  dim: number;
  /** Dimensions the index holds: `dim`, or the projection's. */
  indexDim: number;
  /** The projection's fingerprint, the templates it was learned from, and its own IV and tag. */
  projection: { fingerprint: string; samples: number; iv: string; tag: string } | null;
  partitionId: string;
  /** `exact`: the slab of the exact scan; absent: the HNSW graph (snapshots made before the exact scan). */
  method?: 'exact';
  quantization: string;
  connectivity: number;
  /** Every event up to this one is in the snapshot. */
  appliedSeq: number;
  count: number;
  keySum: number;
  keyId: string;
  iv: string;
  tag: string;
  createdAt: number;
}

export function defaultScratchDir(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

function baseName(model: string, version: string, partitionId: string): string {
  return `gallery-${[model, version, partitionId].map((s) => s.replace(/[^A-Za-z0-9_.-]/g, '_')).join('-')}`;
}

type Head = Omit<SnapshotMeta, 'iv' | 'tag' | 'projection'> & { projection: { fingerprint: string; samples: number } | null };

function aadOf(m: Head, part: 'index' | 'projection'): Buffer {
  const p = m.projection === null ? null : [m.projection.fingerprint, m.projection.samples];
  // The method is bound only when it is `exact`, so that graph snapshots written before it still authenticate.
  return Buffer.from(
    JSON.stringify([
      ...(m.method === 'exact' ? ['exact'] : []),
      part,
      m.format,
      m.model,
      m.version,
      m.dim,
      m.indexDim,
      p,
      m.partitionId,
      m.quantization,
      m.connectivity,
      m.appliedSeq,
      m.count,
      m.keySum,
      m.keyId,
      m.createdAt,
    ]),
  );
}

function headOf(m: SnapshotMeta): Head {
  const { iv: _iv, tag: _tag, projection, ...rest } = m;
  return { ...rest, projection: projection === null ? null : { fingerprint: projection.fingerprint, samples: projection.samples } };
}

export async function saveSnapshot(
  dir: string,
  scratchDir: string,
  part: LocalPartition,
  info: { model: string; version: string; appliedSeq: number; createdAt: number },
  dataKey: { id: string; key: Buffer },
  random: Random,
): Promise<SnapshotMeta> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const base = baseName(info.model, info.version, part.id);
  const plain = join(scratchDir, `${base}.${process.pid}.${random.bytes(6).toString('hex')}.plain`);
  const encTmp = join(dir, `${base}.idx.enc.tmp`);
  const projTmp = join(dir, `${base}.proj.enc.tmp`);
  const projection = part.projection;
  const head: Head = {
    format: 2,
    model: info.model,
    version: info.version,
    dim: part.params.dim,
    indexDim: part.storedDim,
    projection: projection === undefined ? null : { fingerprint: projection.fingerprint, samples: projection.samples },
    partitionId: part.id,
    ...(part.method === 'exact' ? { method: 'exact' as const } : {}),
    quantization: part.params.quantization,
    connectivity: part.params.connectivity,
    appliedSeq: info.appliedSeq,
    count: part.count(),
    keySum: part.keySum,
    keyId: dataKey.id,
    createdAt: info.createdAt,
  };
  const iv = random.bytes(12);
  try {
    part.saveTo(plain);
    const c = createCipheriv('aes-256-gcm', dataKey.key, iv);
    c.setAAD(aadOf(head, 'index'));
    await pipeline(createReadStream(plain), c, createWriteStream(encTmp, { mode: 0o600 }));
    let projMeta: SnapshotMeta['projection'] = null;
    if (projection !== undefined) {
      const piv = random.bytes(12);
      const pc = createCipheriv('aes-256-gcm', dataKey.key, piv);
      pc.setAAD(aadOf(head, 'projection'));
      writeFileSync(projTmp, Buffer.concat([pc.update(projectionToBytes(projection)), pc.final()]), { mode: 0o600 });
      projMeta = { fingerprint: projection.fingerprint, samples: projection.samples, iv: piv.toString('base64'), tag: pc.getAuthTag().toString('base64') };
      renameSync(projTmp, join(dir, `${base}.proj.enc`));
    }
    const meta: SnapshotMeta = { ...head, projection: projMeta, iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64') };
    renameSync(encTmp, join(dir, `${base}.idx.enc`));
    // The metadata is written last: it is what makes the new snapshot visible.
    writeFileSync(join(dir, `${base}.json.tmp`), JSON.stringify(meta), { mode: 0o600 });
    renameSync(join(dir, `${base}.json.tmp`), join(dir, `${base}.json`));
    return meta;
  } finally {
    rmSync(plain, { force: true });
    rmSync(encTmp, { force: true });
    rmSync(projTmp, { force: true });
  }
}

export function readSnapshotMeta(dir: string, model: string, version: string, partitionId: string): SnapshotMeta | undefined {
  const file = join(dir, `${baseName(model, version, partitionId)}.json`);
  if (!existsSync(file)) return undefined;
  try {
    const meta = JSON.parse(readFileSync(file, 'utf8')) as SnapshotMeta;
    return meta.format === 2 ? meta : undefined;
  } catch {
    return undefined;
  }
}

/** Decrypts the snapshot's projection; throws when it fails authentication or is not the one the metadata names. */
export function loadSnapshotProjection(dir: string, meta: SnapshotMeta, key: Buffer): Projection | undefined {
  if (meta.projection === null) return undefined;
  const base = baseName(meta.model, meta.version, meta.partitionId);
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(meta.projection.iv, 'base64'));
  d.setAAD(aadOf(headOf(meta), 'projection'));
  d.setAuthTag(Buffer.from(meta.projection.tag, 'base64'));
  const p = projectionFromBytes(Buffer.concat([d.update(readFileSync(join(dir, `${base}.proj.enc`))), d.final()]));
  if (p.fingerprint !== meta.projection.fingerprint || p.outDim !== meta.indexDim || p.inDim !== meta.dim) throw new Error('the projection is not the one the snapshot names');
  return p;
}

/** Decrypts and loads a snapshot into the partition; throws when it fails authentication. */
export async function loadSnapshot(dir: string, scratchDir: string, part: LocalPartition, meta: SnapshotMeta, key: Buffer, random: Random): Promise<void> {
  const base = baseName(meta.model, meta.version, meta.partitionId);
  const enc = join(dir, `${base}.idx.enc`);
  const plain = join(scratchDir, `${base}.${process.pid}.${random.bytes(6).toString('hex')}.plain`);
  try {
    const projection = loadSnapshotProjection(dir, meta, key);
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(meta.iv, 'base64'));
    d.setAAD(aadOf(headOf(meta), 'index'));
    d.setAuthTag(Buffer.from(meta.tag, 'base64'));
    await pipeline(createReadStream(enc), d, createWriteStream(plain, { mode: 0o600 }));
    part.loadFrom(plain, meta.keySum, projection);
  } finally {
    rmSync(plain, { force: true });
  }
}

export function snapshotBytes(dir: string, model: string, version: string, partitionId: string): number {
  const f = join(dir, `${baseName(model, version, partitionId)}.idx.enc`);
  return existsSync(f) ? statSync(f).size : 0;
}
