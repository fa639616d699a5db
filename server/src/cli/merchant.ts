/**
 * `facepay merchant create NAME [--json]`: a merchant and a test API key, for scripts and first steps.
 * `facepay merchant staff-add MERCHANT EMAIL [--role R] [--name N] [--refund-limit N]`: a console login.
 */
import { configOrSay } from './config.ts';
import { openConfiguredDb } from '../composition.ts';
import { createMerchantService } from '../merchants/index.ts';
import { cryptoRandom, isDomainError, randomIds, systemClock } from '../platform/index.ts';
import { createStaffService, newPassword, StaffRepo } from '../staff/index.ts';

const USAGE = `usage: facepay merchant create NAME [--json]
       facepay merchant staff-add MERCHANT_ID EMAIL [--role owner|manager|cashier] [--name NAME] [--refund-limit MINOR_UNITS] [--json]
  create: a merchant and a test API key (shown once) in the configured database
  (FACEPAY_DATA_DIR, or FACEPAY_PG_URL). --json prints {"merchant_id","api_key"}.
  staff-add: a merchant console login (owner by default) with a new password, shown once.
`;

/** The value after a --flag, removed from args. */
function option(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const [, value] = args.splice(i, 2);
  return value;
}

export async function run(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const rest = args.filter((a) => a !== '--json');
  if (rest[0] === '--help' || rest[0] === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  const role = option(rest, '--role') ?? 'owner';
  const name = option(rest, '--name');
  const limit = option(rest, '--refund-limit');
  const staffAdd = rest[0] === 'staff-add' && rest.length === 3;
  if (!staffAdd && (rest[0] !== 'create' || rest.length !== 2 || rest[1]!.trim() === '')) {
    process.stderr.write(USAGE);
    return 2;
  }
  const config = configOrSay();
  if (config === undefined) return 2;
  const db = await openConfiguredDb(config);
  try {
    const merchants = createMerchantService({ db, clock: systemClock, ids: randomIds(), random: cryptoRandom });
    if (staffAdd) {
      const [, merchantId, email] = rest as [string, string, string];
      await merchants.getMerchant(merchantId);
      const staff = createStaffService({ repo: new StaffRepo(db), clock: systemClock, ids: randomIds(), random: cryptoRandom });
      const password = newPassword(cryptoRandom);
      const member = await staff.create(merchantId, { email, name: name ?? email, password, role, refundLimit: limit === undefined ? null : Number(limit) });
      if (json) process.stdout.write(`${JSON.stringify({ staff_id: member.id, email: member.email, role: member.role, password })}\n`);
      else process.stdout.write(`console login ${member.email} (${member.role}) for ${merchantId}\npassword (shown once, keep it): ${password}\n`);
      return 0;
    }
    const m = await merchants.createMerchant({ name: rest[1]! });
    const { secret } = await merchants.createApiKey(m.id, { mode: 'test', name: 'created by facepay merchant create' });
    if (json) process.stdout.write(`${JSON.stringify({ merchant_id: m.id, api_key: secret })}\n`);
    else process.stdout.write(`merchant ${m.id} (${m.name})\ntest API key (shown once, keep it): ${secret}\n`);
    return 0;
  } catch (e) {
    if (!isDomainError(e)) throw e;
    process.stderr.write(`facepay: ${e.message}\n`);
    return 1;
  } finally {
    await db.close();
  }
}
