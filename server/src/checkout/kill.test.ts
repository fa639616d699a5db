/**
 * The checkout killed with SIGKILL at each step boundary (in a child process, inside the payment's
 * transaction for `paying`), then recovered by this process from the database alone: the coupon is
 * redeemed for a succeeded payment or given back, the CRM entry and the receipt made once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createCheckout, type CheckoutPoint } from '../checkout.ts';
import { allMigrations, createPlatform, type Platform } from '../composition.ts';
import { loadConfig } from '../config/index.ts';
import { systemClock } from '../platform/index.ts';
import { migrate, PostgresDb, SqliteDb, type Db } from '../storage/index.ts';
import { describeEachDialect, pgUrl } from '../storage/testing.ts';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const DAY = 86_400_000;
const POINTS: [CheckoutPoint, boolean][] = [
  ['claimed', false],
  ['coupon_reserved', false],
  ['paying', false],
  ['paid', true],
  ['crm_payment_ran', true],
  ['inbox_receipt_ran', true],
];

describeEachDialect('checkout killed with SIGKILL at each step boundary', (dialect) => {
  const dir = mkdtempSync(join(tmpdir(), 'facepay-checkout-kill-'));
  const schema = `checkout_kill_${process.pid}_${Date.now().toString(36)}`;
  const where = dialect === 'sqlite' ? join(dir, 'facepay.sqlite') : pgUrl!;
  const config = loadConfig({ FACEPAY_DATA_DIR: dir, FACEPAY_FACE: '0', FACEPAY_LOG_LEVEL: 'silent' });
  let merchantId = '';
  let storeId = '';
  let n = 0;

  const open = async (): Promise<{ db: Db; p: Platform }> => {
    let db: Db;
    if (dialect === 'sqlite') db = new SqliteDb(where);
    else {
      const pg = new PostgresDb({ url: where, schema });
      await pg.init();
      db = pg;
    }
    return { db, p: await createPlatform(config, { db }) };
  };
  const close = async (o: { db: Db; p: Platform }): Promise<void> => {
    await o.p.close();
    await o.db.close();
  };

  before(async () => {
    const o = await open();
    await migrate(o.db, allMigrations);
    const { merchants, members, marketing } = o.p.services;
    merchantId = (await merchants.createMerchant({ name: 'Kill Shop' })).id;
    storeId = (await merchants.createStore(merchantId, { name: 'Main street' })).id;
    await members.setProgramme(merchantId, { name: 'Club', benefits: '', fields: ['name'], currency: 'EUR', timeZone: 'UTC' });
    const now = Date.now();
    await marketing.createCampaign(merchantId, {
      name: 'Welcome',
      trigger: 'join',
      audience: { kind: 'all' },
      reward: { kind: 'amount_off', amount: 500 },
      currency: 'EUR',
      validFrom: now - DAY,
      validTo: now + 90 * DAY,
      holdoutPercent: 0,
    });
    await close(o);
  });
  after(async () => {
    if (dialect === 'postgres') {
      const pg = new PostgresDb({ url: where, schema });
      await pg.dropSchema();
      await pg.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [point, paid] of POINTS) {
    test(`killed at ${point}: ${paid ? 'the payment stands with its coupon' : 'the coupon goes back'}, receipt ${paid ? 'once' : 'none'}`, { timeout: 120_000 }, async () => {
      let o = await open();
      const { shoppers, members, marketing, payments } = o.p.services;
      const i = n++;
      const { shopper } = await shoppers.signUp({ email: `kill${i}@example.com`, password: 'a long passphrase', name: `Kill ${i}` });
      const { memberId } = await members.join({ merchantId, shopperId: shopper.id, fields: { name: `Kill ${i}` }, consentVersion: members.consent.version, terminalId: null });
      const [coupon] = await marketing.onJoined(merchantId, memberId);
      await payments.topUp(shopper.id, 10_000, 'eur', `kill-seed-${dialect}-${i}`);
      const intent = await payments.createIntent(merchantId, { amount: 3000, currency: 'eur', storeId });
      await close(o);

      const args = { dialect, where, schema, dataDir: dir, point, merchantId, storeId, intentId: intent.id, shopperId: shopper.id, couponId: coupon!.id, paymentId: `pay_kill_${point}_${dialect}` };
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes(`AT ${point}`)) {
            child.kill('SIGKILL');
            resolve();
          }
        });
        child.on('exit', () => resolve());
        child.on('error', reject);
      });
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
      assert.equal(child.signalCode, 'SIGKILL', `the child was not killed at ${point}: ${out}`);

      o = await open();
      const s = o.p.services;
      const flow = createCheckout({ db: o.db, ...s, clock: systemClock, ids: o.p.ids, log: { error: () => undefined } });
      await new Promise((r) => setTimeout(r, 5));
      await flow.recover();
      await flow.retryDue();
      const pi = await s.payments.getIntent(merchantId, intent.id);
      const held = (await s.marketing.couponsOf(merchantId, memberId)).find((c) => c.id === coupon!.id)!;
      const [receipts] = await o.db.query<{ n: number }>('SELECT COUNT(*) AS n FROM inbox_items WHERE payment_id = $1', [intent.id]);
      const [purchases] = await o.db.query<{ n: number }>('SELECT COUNT(*) AS n FROM member_purchases WHERE payment_id = $1', [intent.id]);
      const got = { status: pi.status, discount: pi.discount, coupon: held.status, receipts: Number(receipts!.n), purchases: Number(purchases!.n) };
      assert.deepEqual(
        got,
        paid
          ? { status: 'succeeded', discount: 500, coupon: 'redeemed', receipts: 1, purchases: 1 }
          : { status: 'requires_face', discount: 0, coupon: 'issued', receipts: 0, purchases: 0 },
      );
      assert.equal(await flow.pending(), 0);
      await close(o);
    });
  }
});
