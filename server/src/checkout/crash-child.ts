/**
 * For kill.test.ts only: pays one intent through the checkout on the given database and, at the
 * named step boundary, says so and hangs, so that the test can kill this process with SIGKILL there.
 *   node --import tsx crash-child.ts JSON
 * where JSON holds dialect, where (file or URL), schema, dataDir, point, and the payment's ids.
 */
import { createCheckout, type CheckoutPoint } from '../checkout.ts';
import { createPlatform } from '../composition.ts';
import { loadConfig } from '../config/index.ts';
import { systemClock } from '../platform/index.ts';
import { PostgresDb, SqliteDb, type Db } from '../storage/index.ts';

const a = JSON.parse(process.argv[2]!) as {
  dialect: 'sqlite' | 'postgres';
  where: string;
  schema: string;
  dataDir: string;
  point: CheckoutPoint;
  merchantId: string;
  storeId: string;
  intentId: string;
  shopperId: string;
  couponId: string;
  paymentId: string;
};
let db: Db;
if (a.dialect === 'sqlite') db = new SqliteDb(a.where);
else {
  const p = new PostgresDb({ url: a.where, schema: a.schema });
  await p.init();
  db = p;
}
const platform = await createPlatform(loadConfig({ FACEPAY_DATA_DIR: a.dataDir, FACEPAY_FACE: '0', FACEPAY_LOG_LEVEL: 'silent' }), { db });
const { payments, members, marketing, shoppers, merchants } = platform.services;
const flow = createCheckout({
  db,
  payments,
  members,
  marketing,
  shoppers,
  merchants,
  clock: systemClock,
  ids: platform.ids,
  log: { error: (_o, msg) => process.stderr.write(`${msg}\n`) },
  // The lease runs out at once, so that the test's recovery pass may take over right after the kill.
  options: { leaseMs: 1 },
  at: async (point) => {
    if (point !== a.point) return;
    process.stdout.write(`AT ${point}\n`);
    await new Promise(() => undefined);
  },
});
await flow.checkout.pay(a.intentId, { merchantId: a.merchantId, storeId: a.storeId, terminalId: 'trm_kill' }, a.shopperId, {
  paymentId: a.paymentId,
  method: 'pay_code',
  couponId: a.couponId,
});
process.stdout.write('DONE\n');
await platform.close();
await db.close();
