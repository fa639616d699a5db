/**
 * `facepay operator add EMAIL --role desk|admin [--name N] [--credit-cap MINOR] [--daily-cap MINOR] [--json]`:
 * an operator staff login (service desk or admin) with a new password, shown once.
 * `facepay operator reconcile [--json]`: the float of all live wallets against the bank balance of
 * the imported statements, the fee account and fee income (the same report as GET /v1/operator/funding/reconciliation).
 */
import { ConfigError, loadConfig } from '../config/index.ts';
import { openConfiguredDb } from '../composition.ts';
import { createReconciliation } from '../funding/index.ts';
import { createLedger } from '../ledger/index.ts';
import { createOperatorService, OperatorRepo } from '../operator/index.ts';
import { cryptoRandom, isDomainError, randomIds, systemClock } from '../platform/index.ts';
import { newPassword } from '../staff/index.ts';

const USAGE = `usage: facepay operator add EMAIL --role desk|admin [--name NAME] [--credit-cap MINOR_UNITS] [--daily-cap MINOR_UNITS] [--json]
       facepay operator reconcile [--json]
  add: an operator staff login with a new password, shown once. Desk users credit wallets at the
  service desk (capped by FACEPAY_DESK_TOP_UP_CAP / FACEPAY_DESK_DAILY_CAP, or lower caps of their
  own); admins import bank statements and read the reconciliation.
  reconcile: the float of all live wallets against the latest imported bank closing balance.
`;

function option(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const [, value] = args.splice(i, 2);
  return value;
}

function minor(v: string | undefined, flag: string): number | null {
  if (v === undefined) return null;
  if (!/^\d{1,15}$/.test(v)) throw new ConfigError(`${flag} is a whole number of minor units`);
  return Number(v);
}

export async function run(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const rest = args.filter((a) => a !== '--json');
  if (rest[0] === '--help' || rest[0] === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  let config;
  let input;
  try {
    const role = option(rest, '--role');
    const name = option(rest, '--name');
    const creditCap = minor(option(rest, '--credit-cap'), '--credit-cap');
    const dailyCap = minor(option(rest, '--daily-cap'), '--daily-cap');
    const add = rest[0] === 'add' && rest.length === 2 && role !== undefined;
    if (!add && !(rest[0] === 'reconcile' && rest.length === 1)) {
      process.stderr.write(USAGE);
      return 2;
    }
    input = add ? { email: rest[1]!, name: name ?? rest[1]!, role: role!, creditCap, dailyCap } : undefined;
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
    if (input === undefined) {
      const report = await createReconciliation({ db, ledger: createLedger({ db, clock: systemClock }), now: () => Date.now() }).report();
      if (json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        return 0;
      }
      for (const c of report.currencies) {
        process.stdout.write(
          [
            `${c.currency.toUpperCase()}: float ${c.float} (held ${c.floatHeld}) over ${c.wallets} wallets`,
            `  bank ${c.bank ? `${c.bank.balance} on ${c.bank.asOf} (statement ${c.bank.statementId}), difference ${c.difference}` : 'no closing balance imported'}`,
            `  unmatched bank credits ${c.unmatched.count} totalling ${c.unmatched.total}`,
            `  funded by rail ${Object.entries(c.fundedByRail).map(([r, v]) => `${r} ${v}`).join(', ') || 'none'}`,
            `  merchant payable ${c.merchantPayable}, platform fees ${c.platformFees} (moved out ${c.feesMovedOut})`,
            ...c.feeIncome.map((f) => `  fee income ${f.month} ${f.merchantId} ${f.fees}`),
          ].join('\n') + '\n',
        );
      }
      for (const n of report.notes) process.stdout.write(`note: ${n}\n`);
      process.stdout.write('(amounts in minor units)\n');
      return 0;
    }
    const operators = createOperatorService({ repo: new OperatorRepo(db), clock: systemClock, ids: randomIds(), random: cryptoRandom });
    const password = newPassword(cryptoRandom);
    const s = await operators.create({ ...input, password });
    if (json) process.stdout.write(`${JSON.stringify({ staff_id: s.id, email: s.email, role: s.role, password })}\n`);
    else process.stdout.write(`operator login ${s.email} (${s.role})\npassword (shown once, keep it): ${password}\n`);
    return 0;
  } catch (e) {
    if (!isDomainError(e)) throw e;
    process.stderr.write(`facepay: ${e.message}\n`);
    return 1;
  } finally {
    await db.close();
  }
}
