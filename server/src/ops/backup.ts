/**
 * `facepay backup DIR` and `facepay restore DIR` for the embedded database: SQLite's online
 * backup of facepay.sqlite (taken while the server runs), the gallery's encrypted index snapshots
 * and the TLS files, with a manifest of SHA-256 hashes. Never the master key (nor the development
 * key): a backup is useless to whoever steals it without the key kept elsewhere, and the restore
 * says which key it needs.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { DomainError } from '../platform/index.ts';
import { SqliteDb } from '../storage/index.ts';
import { backupRepo } from './backup-repo.ts';
import { TLS_FILES } from './tls.ts';

export const DB_FILE = 'facepay.sqlite';
export const MANIFEST = 'manifest.json';
/** What is never copied: the development master key and the first start's secrets. */
const NEVER = new Set(['gallery-dev-master.key', 'first-start.txt']);

export interface ManifestFile {
  path: string;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  format: 'facepay-backup';
  version: 1;
  created_at: string;
  /** The last schema migration applied: a restore onto older code would not know the schema. */
  migrations: string[];
  /** Fingerprints (not keys) of the master keys that wrap the gallery's data keys. */
  master_key_ids: string[];
  files: ManifestFile[];
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function copyOwnerOnly(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
  copyFileSync(from, to);
  chmodSync(to, 0o600);
}

/** Files under dir, relative, in a stable order. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

/**
 * Backs up the data directory's database (online: `db`, the open database, when the caller has
 * it; otherwise opened here) into `out`, which must be empty or absent.
 */
export async function backup(opts: { dataDir: string; out: string; now: Date; db?: SqliteDb }): Promise<Manifest> {
  const { dataDir, out } = opts;
  if (existsSync(out) && readdirSync(out).length > 0) throw new DomainError('conflict', 'backup_dir_not_empty', `${out} is not empty: back up into a new folder`);
  const source = join(dataDir, DB_FILE);
  if (opts.db === undefined && !existsSync(source)) throw new DomainError('not_found', 'backup_no_database', `there is no ${DB_FILE} in ${dataDir}`);
  mkdirSync(out, { recursive: true, mode: 0o700 });
  const db = opts.db ?? new SqliteDb(source);
  try {
    await db.backup(join(out, DB_FILE));
  } finally {
    if (opts.db === undefined) await db.close();
  }
  // The copy, not the live database, says what the backup holds.
  const copy = new SqliteDb(join(out, DB_FILE));
  let migrations: string[];
  let masterKeyIds: string[];
  try {
    migrations = await backupRepo.migrations(copy);
    masterKeyIds = await backupRepo.masterKeyIds(copy).catch(() => []);
  } finally {
    await copy.close();
  }
  // The snapshots are written to a temporary name and renamed: a copy taken meanwhile is one
  // whole snapshot or the previous one, and a stale one is rebuilt from the database at start.
  const extra = [
    ...filesUnder(join(dataDir, 'gallery')).filter((f) => !f.endsWith('.tmp')).map((f) => join('gallery', f)),
    ...Object.values(TLS_FILES).filter((f) => existsSync(join(dataDir, f))),
  ].filter((f) => !NEVER.has(f.split(sep).pop()!));
  for (const f of extra) copyOwnerOnly(join(dataDir, f), join(out, f));
  const files = [DB_FILE, ...extra].map((path) => ({ path, bytes: statSync(join(out, path)).size, sha256: sha256(join(out, path)) }));
  const manifest: Manifest = {
    format: 'facepay-backup',
    version: 1,
    created_at: opts.now.toISOString(),
    migrations,
    master_key_ids: masterKeyIds,
    files,
  };
  writeFileSync(join(out, MANIFEST), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 });
  return manifest;
}

/** Reads a backup's manifest and checks every file against its hash. */
export function verifyBackup(dir: string): Manifest {
  const file = join(dir, MANIFEST);
  if (!existsSync(file)) throw new DomainError('not_found', 'backup_no_manifest', `${file} is missing: not a Facepay backup`);
  const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  if (m.format !== 'facepay-backup' || m.version !== 1 || !Array.isArray(m.files)) throw new DomainError('invalid', 'backup_bad_manifest', `${file} is not a Facepay backup manifest (version 1)`);
  for (const f of m.files) {
    // A manifest names files inside the backup only.
    if (f.path.startsWith('/') || f.path.split(/[\\/]/).includes('..')) throw new DomainError('invalid', 'backup_bad_manifest', `the manifest names ${f.path}, outside the backup`);
    const p = join(dir, f.path);
    if (!existsSync(p)) throw new DomainError('unprocessable', 'backup_file_missing', `${f.path} is missing from the backup`);
    if (sha256(p) !== f.sha256) throw new DomainError('unprocessable', 'backup_file_corrupt', `${f.path} does not match its hash in the manifest`);
  }
  if (!m.files.some((f) => f.path === DB_FILE)) throw new DomainError('unprocessable', 'backup_file_missing', `the backup holds no ${DB_FILE}`);
  return m;
}

/**
 * Puts a verified backup into `dataDir`. A database already there is refused unless `force`,
 * and then moved aside (`facepay.sqlite.before-restore-<time>`), never deleted.
 */
export function restore(opts: { from: string; dataDir: string; now: Date; force?: boolean }): { manifest: Manifest; movedAside: string[] } {
  const manifest = verifyBackup(opts.from);
  const target = join(opts.dataDir, DB_FILE);
  const movedAside: string[] = [];
  if (existsSync(target)) {
    if (!opts.force) throw new DomainError('conflict', 'restore_target_exists', `${target} exists: stop the server, then restore with --force (the current database is moved aside, not deleted)`);
    const stamp = opts.now.toISOString().replace(/[:.]/g, '-');
    // The gallery's snapshots go too: the restored database rebuilds its index if it has none.
    for (const f of [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`, 'gallery']) {
      const p = join(opts.dataDir, f);
      if (existsSync(p)) {
        renameSync(p, `${p}.before-restore-${stamp}`);
        movedAside.push(`${p}.before-restore-${stamp}`);
      }
    }
  }
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  for (const f of manifest.files) copyOwnerOnly(join(opts.from, f.path), join(opts.dataDir, f.path));
  return { manifest, movedAside };
}
