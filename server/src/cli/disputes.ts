/**
 * `facepay disputes list [--status open|refunded|closed] [--limit N] [--json]`: every merchant's
 * disputes, for the operator of the platform. There is no operator role on the API yet, so the
 * operator's view is this command, run where the configuration (and so the database) is.
 */
import { configOrSay } from './config.ts';
import { openConfiguredDb } from '../composition.ts';
import { createDisputesService, DisputeRepo, operatorResource, type DisputePorts } from '../disputes/index.ts';
import { isDomainError, randomIds, systemClock } from '../platform/index.ts';

const USAGE = `usage: facepay disputes list [--status open|refunded|closed] [--limit 1..100] [--cursor ID] [--json]
  Every merchant's disputes ("This wasn't me"), newest first, from the configured database
  (FACEPAY_DATA_DIR, or FACEPAY_PG_URL). --json prints one JSON object per line. When there are
  more, the last line says the --cursor that lists the next page.
`;

function option(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const [, value] = args.splice(i, 2);
  return value;
}

/** Listing needs none of the ports: they are there for opening and refunding, which this command does not do. */
const unused = (): never => {
  throw new Error('facepay disputes list only reads');
};
const readOnly: DisputePorts = {
  paymentOfShopper: unused,
  paymentOfMerchant: unused,
  paymentMethod: unused,
  refund: unused,
  freezeFacePay: unused,
  notify: unused,
  recordEvent: unused,
  merchantName: unused,
};

export async function run(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const rest = args.filter((a) => a !== '--json');
  if (rest[0] === '--help' || rest[0] === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  const status = option(rest, '--status');
  const limitText = option(rest, '--limit');
  const cursor = option(rest, '--cursor');
  if (rest[0] !== 'list' || rest.length !== 1 || (limitText !== undefined && !/^\d{1,3}$/.test(limitText))) {
    process.stderr.write(USAGE);
    return 2;
  }
  const config = configOrSay();
  if (config === undefined) return 2;
  const db = await openConfiguredDb(config);
  try {
    const disputes = createDisputesService({ repo: new DisputeRepo(db), ports: readOnly, clock: systemClock, ids: randomIds() });
    const page = await disputes.listAll({ status, cursor, limit: limitText === undefined ? 100 : Number(limitText) });
    for (const d of page.data) {
      if (json) process.stdout.write(`${JSON.stringify(operatorResource(d))}\n`);
      else {
        const when = new Date(d.createdAt).toISOString();
        process.stdout.write(`${d.id}  ${when}  ${d.status.padEnd(8)}  ${d.mode}  ${d.merchantId}  ${d.paymentIntentId}  ${d.amount} ${d.currency}  ${d.method}\n`);
      }
    }
    if (!json) process.stdout.write(`${page.data.length} dispute(s)${page.nextCursor ? `; more with --cursor ${page.nextCursor}` : ''}\n`);
    else if (page.nextCursor) process.stdout.write(`${JSON.stringify({ object: 'more', next_cursor: page.nextCursor })}\n`);
    return 0;
  } catch (e) {
    if (!isDomainError(e)) throw e;
    process.stderr.write(`facepay: ${e.message}\n`);
    return 1;
  } finally {
    await db.close();
  }
}
