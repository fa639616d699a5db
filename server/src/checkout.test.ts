/**
 * The checkout's own migration: payments made before payments recorded their method get it from
 * their paid face-pay attempt, on both databases.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkoutMigrations } from './checkout.ts';
import { allMigrations } from './composition.ts';
import { describeEachDb } from './storage/testing.ts';
import { migrate } from './storage/index.ts';

const before = allMigrations.filter((m) => !checkoutMigrations.includes(m));

describeEachDb('payment method backfill', before, (getDb) => {
  test('older payments get the method of their paid attempt; one with no attempt, or not paid, keeps none', async () => {
    const db = getDb();
    const intent = (id: string, status: string) =>
      db.execute(
        `INSERT INTO payment_intents (id, merchant_id, store_id, amount, currency, status, metadata, created_at, updated_at)
         VALUES ($1, 'mer_1', 'sto_1', 100, 'eur', $2, '{}', 1, 1)`,
        [id, status],
      );
    const attempt = (id: string, intentId: string, method: string, state: string) =>
      db.execute(
        `INSERT INTO face_pay_attempts (id, intent_id, merchant_id, store_id, terminal_id, method, expires_at, state, digits_tries_left, created_at, updated_at)
         VALUES ($1, $2, 'mer_1', 'sto_1', 'trm_1', $3, 9, $4, 0, 1, 1)`,
        [id, intentId, method, state],
      );
    await intent('pi_face', 'succeeded');
    await attempt('fpa_1', 'pi_face', 'face', 'refused');
    await attempt('fpa_2', 'pi_face', 'face', 'paid');
    await intent('pi_code', 'succeeded');
    await attempt('fpa_3', 'pi_code', 'face', 'refused');
    await attempt('fpa_4', 'pi_code', 'pay_code', 'paid');
    await intent('pi_api', 'succeeded');
    await intent('pi_open', 'requires_face');
    await attempt('fpa_5', 'pi_open', 'face', 'challenged');
    assert.deepEqual(await migrate(db, allMigrations), checkoutMigrations.map((m) => m.id));
    const rows = await db.query<{ id: string; payment_method: string | null }>('SELECT id, payment_method FROM payment_intents ORDER BY id');
    assert.deepEqual(
      rows.map((r) => [r.id, r.payment_method]),
      [
        ['pi_api', null],
        ['pi_code', 'pay_code'],
        ['pi_face', 'face'],
        ['pi_open', null],
      ],
    );
  });
});
