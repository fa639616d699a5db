/**
 * `facepay backup DIR`: an online backup of the embedded database, the gallery's encrypted
 * snapshots and the TLS files, with a manifest (see ops/backup.ts). Never the master key.
 */
import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '../config/index.ts';
import { backup } from '../ops/index.ts';
import { isDomainError } from '../platform/index.ts';

const USAGE = `usage: facepay backup DIR
  Copies the embedded database (SQLite's online backup: the server may keep running), the
  gallery's encrypted index snapshots and the TLS files from FACEPAY_DATA_DIR into DIR (new or
  empty), with manifest.json (SHA-256 of each file, the schema's migrations, the fingerprints of
  the master keys the backup needs). The master key is never copied: keep FACEPAY_MASTER_KEY
  elsewhere. With FACEPAY_PG_URL, back the database up with pg_dump instead.
`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.length !== 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  try {
    const config = loadConfig();
    if (config.pgUrl) {
      process.stderr.write('facepay backup: FACEPAY_PG_URL is set; back PostgreSQL up with pg_dump (see the README), this command copies the embedded database\n');
      return 2;
    }
    const out = resolve(args[0]!);
    const m = await backup({ dataDir: config.dataDir, out, now: new Date() });
    const bytes = m.files.reduce((a, f) => a + f.bytes, 0);
    process.stdout.write(
      `Backed up ${config.dataDir} into ${out}: ${m.files.length} files, ${(bytes / 1e6).toFixed(1)} MB, schema of ${m.migrations.length} migrations.\n` +
        (m.master_key_ids.length > 0 ? `  It needs the master key ${m.master_key_ids.join(' or ')} to read face templates (not in the backup).\n` : ''),
    );
    return 0;
  } catch (e) {
    if (e instanceof ConfigError || isDomainError(e)) {
      process.stderr.write(`facepay backup: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
