/**
 * `facepay settle ...`: the operator's side of settlement, on the configured database.
 *   close                      close every merchant day that has ended into its statement
 *   withdrawals [STATUS]       list withdrawals (pending, approved, ...)
 *   approve ID | reject ID     decide a withdrawal (a rejection gives the money back)
 *   payout-run [--key KEY]     claim closed statements and approved withdrawals into a run and write its file
 *   resume                     finish runs that stopped half way
 *   runs                       list payout runs
 *   file RUN_ID [OUT]          the run's pain.001 file (to OUT, else stdout)
 *   sent RUN_ID | returned RUN_ID   the bank paid the file, or sent it back
 *   audit                      statements, payables and clearing against the ledger
 * Output is JSON, one object per line.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { configOrSay } from './config.ts';
import { createPlatform } from '../composition.ts';
import { isDomainError } from '../platform/index.ts';

const USAGE = `usage: facepay settle close | withdrawals [STATUS] | approve ID | reject ID | payout-run [--key KEY] | resume | runs | file RUN_ID [OUT] | sent RUN_ID | returned RUN_ID | audit
  The operator's settlement commands (FACEPAY_DATA_DIR, or FACEPAY_PG_URL). A payout run needs
  FACEPAY_PAYOUT_DEBTOR_IBAN. --key makes a retried payout-run the same run (default: a new key).
`;

const out = (v: unknown): void => {
  process.stdout.write(`${JSON.stringify(v)}\n`);
};

export async function run(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  if (cmd === undefined || cmd === '--help' || cmd === '-h') {
    process.stdout.write(USAGE);
    return cmd === undefined ? 2 : 0;
  }
  const loaded = configOrSay();
  if (loaded === undefined) return 2;
  const config = { ...loaded, faceEnabled: false };
  const platform = await createPlatform(config);
  const s = platform.services.settlement!;
  try {
    switch (cmd) {
      case 'close':
        for (const st of await s.closeDays()) out({ id: st.id, merchant_id: st.merchantId, day: st.day, currency: st.currency, net: st.net, status: st.status });
        return 0;
      case 'withdrawals':
        for (const w of await s.listWithdrawals(rest[0] ? { status: rest[0] } : {})) out(w);
        return 0;
      case 'approve':
      case 'reject':
        if (!rest[0]) break;
        out(cmd === 'approve' ? await s.approveWithdrawal(rest[0]) : await s.rejectWithdrawal(rest[0]));
        return 0;
      case 'payout-run': {
        const i = rest.indexOf('--key');
        const key = i >= 0 ? rest[i + 1] : `cli-${randomUUID()}`;
        if (!key) break;
        out(await s.createPayoutRun(key));
        return 0;
      }
      case 'resume':
        out({ resumed: await s.resumeOpenRuns() });
        return 0;
      case 'runs':
        for (const r of await s.listPayoutRuns()) out(r);
        return 0;
      case 'file': {
        if (!rest[0]) break;
        const xml = await s.payoutFile(rest[0]);
        if (rest[1]) writeFileSync(rest[1], xml);
        else process.stdout.write(xml);
        return 0;
      }
      case 'sent':
      case 'returned':
        if (!rest[0]) break;
        out(cmd === 'sent' ? await s.markPayoutSent(rest[0]) : await s.markPayoutReturned(rest[0]));
        return 0;
      case 'audit': {
        const a = await s.audit();
        out(a);
        return a.ok ? 0 : 1;
      }
    }
    process.stderr.write(USAGE);
    return 2;
  } catch (e) {
    if (!isDomainError(e)) throw e;
    process.stderr.write(`facepay: ${e.code}: ${e.message}\n`);
    return 1;
  } finally {
    await platform.close();
  }
}
