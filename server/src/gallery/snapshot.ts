import { createCipheriv, createDecipheriv } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Random } from '../platform/index.ts';
import type { LocalPartition } from './partition.ts';

/**
 * A saved index holds the templates' vectors (quantised), so it is encrypted like them: AES-256-GCM
 * under the active data key, with its metadata (the last event it includes, count and key sum)
 * as associated data. usearch only reads and writes files, so the plain index passes through a
 * scratch file in memory (/dev/shm) that is deleted at once.
 */
export interface SnapshotMeta {
  format: 1;
  model: string;
  version: string;
  dim: number;
  partitionId: string;
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

function aadOf(m: Omit<SnapshotMeta, 'iv' | 'tag'>): Buffer {
  return Buffer.from(
    JSON.stringify([m.format, m.model, m.version, m.dim, m.partitionId, m.quantization, m.connectivity, m.appliedSeq, m.count, m.keySum, m.keyId, m.createdAt]),
  );
}

export async function saveSnapshot(
  dir: string,
  scratchDir: string,
  part: LocalPartition,
  info: { model: string; version: string; appliedSeq: number; createdAt: number },
  dataKey: { id: string; key: Buffer },
  random: Random,
): Promise<SnapshotMeta> {
  mkdirSync(dir, { recursive: true });
  const base = baseName(info.model, info.version, part.id);
  const plain = join(scratchDir, `${base}.${process.pid}.${random.bytes(6).toString('hex')}.plain`);
  const encTmp = join(dir, `${base}.idx.enc.tmp`);
  const head: Omit<SnapshotMeta, 'iv' | 'tag'> = {
    format: 1,
    model: info.model,
    version: info.version,
    dim: part.params.dim,
    partitionId: part.id,
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
    c.setAAD(aadOf(head));
    await pipeline(createReadStream(plain), c, createWriteStream(encTmp));
    const meta: SnapshotMeta = { ...head, iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64') };
    renameSync(encTmp, join(dir, `${base}.idx.enc`));
    // The metadata is written last: it is what makes the new snapshot visible.
    writeFileSync(join(dir, `${base}.json.tmp`), JSON.stringify(meta));
    renameSync(join(dir, `${base}.json.tmp`), join(dir, `${base}.json`));
    return meta;
  } finally {
    rmSync(plain, { force: true });
    rmSync(encTmp, { force: true });
  }
}

export function readSnapshotMeta(dir: string, model: string, version: string, partitionId: string): SnapshotMeta | undefined {
  const file = join(dir, `${baseName(model, version, partitionId)}.json`);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SnapshotMeta;
  } catch {
    return undefined;
  }
}

/** Decrypts and loads a snapshot into the partition; throws when it fails authentication. */
export async function loadSnapshot(dir: string, scratchDir: string, part: LocalPartition, meta: SnapshotMeta, key: Buffer, random: Random): Promise<void> {
  const base = baseName(meta.model, meta.version, meta.partitionId);
  const enc = join(dir, `${base}.idx.enc`);
  const plain = join(scratchDir, `${base}.${process.pid}.${random.bytes(6).toString('hex')}.plain`);
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(meta.iv, 'base64'));
    const { iv: _iv, tag, ...head } = meta;
    d.setAAD(aadOf(head));
    d.setAuthTag(Buffer.from(tag, 'base64'));
    await pipeline(createReadStream(enc), d, createWriteStream(plain));
    part.loadFrom(plain, meta.keySum);
  } finally {
    rmSync(plain, { force: true });
  }
}

export function snapshotBytes(dir: string, model: string, version: string, partitionId: string): number {
  const f = join(dir, `${baseName(model, version, partitionId)}.idx.enc`);
  return existsSync(f) ? statSync(f).size : 0;
}
