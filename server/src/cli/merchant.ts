/** `facepay merchant create NAME [--json]`: a merchant and a test API key, for scripts and first steps. */
import { ConfigError, loadConfig } from '../config/index.ts';
import { openConfiguredDb } from '../composition.ts';
import { createMerchantService } from '../merchants/index.ts';
import { cryptoRandom, randomIds, systemClock } from '../platform/index.ts';

const USAGE = `usage: facepay merchant create NAME [--json]
  Creates a merchant and a test API key (shown once) in the configured database
  (FACEPAY_DATA_DIR, or FACEPAY_PG_URL). --json prints {"merchant_id","api_key"}.
`;

export async function run(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const rest = args.filter((a) => a !== '--json');
  if (rest[0] === '--help' || rest[0] === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (rest[0] !== 'create' || rest.length !== 2 || rest[1]!.trim() === '') {
    process.stderr.write(USAGE);
    return 2;
  }
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`facepay: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const db = await openConfiguredDb(config);
  try {
    const merchants = createMerchantService({ db, clock: systemClock, ids: randomIds(), random: cryptoRandom });
    const m = await merchants.createMerchant({ name: rest[1]! });
    const { secret } = await merchants.createApiKey(m.id, { mode: 'test', name: 'created by facepay merchant create' });
    if (json) process.stdout.write(`${JSON.stringify({ merchant_id: m.id, api_key: secret })}\n`);
    else process.stdout.write(`merchant ${m.id} (${m.name})\ntest API key (shown once, keep it): ${secret}\n`);
    return 0;
  } finally {
    await db.close();
  }
}
