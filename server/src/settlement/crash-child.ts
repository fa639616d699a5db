/**
 * For crash.test.ts only: runs a payout run on the given database, slowly, and says when its first
 * items have moved, so that the test can kill this process with SIGKILL in the middle of the run.
 *   node --import tsx crash-child.ts (sqlite FILE | postgres URL SCHEMA)
 */
import { createLedger } from '../ledger/index.ts';
import { randomIds, systemClock } from '../platform/index.ts';
import { PostgresDb, SqliteDb, type Db } from '../storage/index.ts';
import { createSettlementService } from './index.ts';

const [dialect, a, b] = process.argv.slice(2);
let db: Db;
if (dialect === 'sqlite') db = new SqliteDb(a!);
else {
  const p = new PostgresDb({ url: a!, schema: b! });
  await p.init();
  db = p;
}
let moved = 0;
const settlement = createSettlementService({
  db,
  clock: systemClock,
  ids: randomIds(),
  ledger: createLedger({ db, clock: systemClock }),
  events: { record: async () => undefined },
  timeZoneOf: async () => 'UTC',
  config: { debtor: { name: 'Operator', iban: 'DE89370400440532013000', bic: null }, closeGraceMs: 0 },
  afterItemMoved: async () => {
    moved++;
    if (moved === 5) process.stdout.write('MOVING\n');
    await new Promise((r) => setTimeout(r, 20));
  },
});
await settlement.createPayoutRun('crash-run-0001');
process.stdout.write('DONE\n');
await db.close();
