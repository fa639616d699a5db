/**
 * `facepay restore DIR [--force]`: checks a backup against its manifest, puts it into
 * FACEPAY_DATA_DIR, brings the schema up to date and audits the ledger and payments.
 */
import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '../config/index.ts';
import { createPlatform } from '../composition.ts';
import { masterKeyFromBase64 } from '../gallery/index.ts';
import { restore } from '../ops/index.ts';
import { isDomainError } from '../platform/index.ts';

const USAGE = `usage: facepay restore DIR [--force]
  Checks every file of the backup in DIR against its manifest, copies it into FACEPAY_DATA_DIR,
  runs the migrations, and audits the ledger against the payments and refunds. Stop the server
  first. A database already in the data directory is refused without --force, and moved aside
  (facepay.sqlite.before-restore-TIME) with it, never deleted.
`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const force = args.includes('--force');
  const rest = args.filter((a) => a !== '--force');
  if (rest.length !== 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  try {
    const config = loadConfig();
    if (config.pgUrl) {
      process.stderr.write('facepay restore: FACEPAY_PG_URL is set; restore PostgreSQL with pg_restore (see the README)\n');
      return 2;
    }
    const from = resolve(rest[0]!);
    const r = restore({ from, dataDir: config.dataDir, now: new Date(), force });
    for (const p of r.movedAside) process.stdout.write(`moved aside ${p}\n`);
    process.stdout.write(`Restored ${r.manifest.files.length} files from ${from} (backup of ${r.manifest.created_at}) into ${config.dataDir}.\n`);
    const report = await auditDataDir(config);
    process.stdout.write(`Audit: ${report.summary}\n`);
    for (const p of report.problems) process.stdout.write(`  problem: ${p}\n`);
    const configured = process.env.FACEPAY_MASTER_KEY ? masterKeyFromBase64(process.env.FACEPAY_MASTER_KEY).id : undefined;
    const needed = r.manifest.master_key_ids;
    if (needed.length > 0 && (configured === undefined || !needed.includes(configured))) {
      process.stdout.write(
        `Note: the face templates are wrapped by master key ${needed.join(' or ')}; ${configured ? `FACEPAY_MASTER_KEY is ${configured}` : 'FACEPAY_MASTER_KEY is not set'}. Start with that key (or it in FACEPAY_MASTER_KEY_PREVIOUS).\n`,
      );
    }
    return report.problems.length === 0 ? 0 : 1;
  } catch (e) {
    if (e instanceof ConfigError || isDomainError(e)) {
      process.stderr.write(`facepay restore: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

/** Opens the data directory's database (migrating it) without the face engine, and audits it. */
export async function auditDataDir(config: ReturnType<typeof loadConfig>): Promise<{ problems: string[]; summary: string }> {
  const platform = await createPlatform({ ...config, faceEnabled: false, tls: undefined, logLevel: 'silent' });
  try {
    const a = await platform.services.payments.audit();
    return { problems: a.problems, summary: `${a.problems.length === 0 ? "clean" : `${a.problems.length} problem(s)`}: ${a.intents} payment intents, ${a.succeeded} succeeded, ledger balanced${a.problems.length === 0 ? "" : " except as listed"}` };
  } finally {
    await platform.close();
  }
}
