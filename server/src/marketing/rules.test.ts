import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../platform/index.ts';
import type { AudienceMember } from '../members/index.ts';
import {
  bestCoupon,
  checkReward,
  evaluateCoupon,
  holdoutDraw,
  inAudience,
  inHoldout,
  studentTQuantile,
  welchInterval,
  type Basket,
  type CouponCandidate,
  type Reward,
} from './rules.ts';

const NOW = 1000;
const c = (id: string, reward: Reward, extra: Partial<CouponCandidate> = {}): CouponCandidate => ({
  id,
  reward,
  currency: 'EUR',
  validFrom: 0,
  validTo: 5000,
  ...extra,
});

const COUPONS: Record<string, CouponCandidate> = {
  a: c('a', { kind: 'amount_off', amount: 500, minSpend: 2000 }),
  b: c('b', { kind: 'percent_off', percent: 10, cap: 800 }, { validTo: 4000 }),
  cc: c('cc', { kind: 'spend_save', threshold: 5000, amount: 1000 }, { validTo: 9000 }),
  d: c('d', { kind: 'free_item', code: 'COFFEE', label: 'coffee', value: 300 }, { validTo: 3000 }),
  e: c('e', { kind: 'amount_off', amount: 500 }, { validTo: 3000 }),
  e2: c('e2', { kind: 'amount_off', amount: 500 }, { validTo: 3000 }),
  expired: c('expired', { kind: 'amount_off', amount: 10_000 }, { validTo: NOW }),
  future: c('future', { kind: 'amount_off', amount: 9999 }, { validFrom: NOW + 1 }),
  usd: c('usd', { kind: 'amount_off', amount: 5000 }, { currency: 'USD' }),
  used: c('used', { kind: 'amount_off', amount: 7000 }, { status: 'redeemed' }),
  budget: c('budget', { kind: 'percent_off', percent: 50, cap: null }, { budgetLeft: 700 }),
  broke: c('broke', { kind: 'amount_off', amount: 3000 }, { budgetLeft: 0 }),
  l: c('l', { kind: 'percent_off', percent: 25, cap: null }),
};

describe('bestCoupon over a table of baskets', () => {
  const rows: { name: string; basket: Basket; coupons: string[]; want: { id: string; discount: number; payable: number } | null }[] = [
    { name: 'below the minimum spend: nothing', basket: { amount: 1999, currency: 'EUR' }, coupons: ['a'], want: null },
    { name: 'at the minimum spend', basket: { amount: 2000, currency: 'EUR' }, coupons: ['a'], want: { id: 'a', discount: 500, payable: 1500 } },
    { name: 'never below zero', basket: { amount: 300, currency: 'EUR' }, coupons: ['e'], want: { id: 'e', discount: 300, payable: 0 } },
    { name: 'equal discounts: earliest expiry wins', basket: { amount: 2000, currency: 'EUR' }, coupons: ['a', 'e'], want: { id: 'e', discount: 500, payable: 1500 } },
    { name: 'equal discount and expiry: smallest id wins', basket: { amount: 2000, currency: 'EUR' }, coupons: ['e2', 'e'], want: { id: 'e', discount: 500, payable: 1500 } },
    { name: 'percent capped', basket: { amount: 9000, currency: 'EUR' }, coupons: ['b'], want: { id: 'b', discount: 800, payable: 8200 } },
    { name: 'percent rounds down', basket: { amount: 1999, currency: 'EUR' }, coupons: ['b'], want: { id: 'b', discount: 199, payable: 1800 } },
    { name: 'percent rounding to zero is no discount', basket: { amount: 9, currency: 'EUR' }, coupons: ['b'], want: null },
    { name: 'spend X save Y beats the rest when reached', basket: { amount: 5000, currency: 'EUR' }, coupons: ['a', 'b', 'cc'], want: { id: 'cc', discount: 1000, payable: 4000 } },
    { name: 'one below the threshold', basket: { amount: 4999, currency: 'EUR' }, coupons: ['a', 'b', 'cc'], want: { id: 'a', discount: 500, payable: 4499 } },
    { name: 'free item alone applies without touching the amount', basket: { amount: 100, currency: 'EUR' }, coupons: ['d'], want: { id: 'd', discount: 0, payable: 100 } },
    { name: 'money off worth more than the free item', basket: { amount: 2500, currency: 'EUR' }, coupons: ['a', 'd'], want: { id: 'a', discount: 500, payable: 2000 } },
    { name: 'free item worth more than the percentage', basket: { amount: 2500, currency: 'EUR' }, coupons: ['d', 'b'], want: { id: 'd', discount: 0, payable: 2500 } },
    { name: 'expired, not yet valid, other currency, used: none', basket: { amount: 100_000, currency: 'EUR' }, coupons: ['expired', 'future', 'usd', 'used'], want: null },
    { name: 'the currency must match', basket: { amount: 100_000, currency: 'USD' }, coupons: ['usd', 'e'], want: { id: 'usd', discount: 5000, payable: 95_000 } },
    { name: 'the remaining budget caps the discount', basket: { amount: 10_000, currency: 'EUR' }, coupons: ['budget'], want: { id: 'budget', discount: 700, payable: 9300 } },
    { name: 'an exhausted budget rules a coupon out', basket: { amount: 10_000, currency: 'EUR' }, coupons: ['broke', 'a'], want: { id: 'a', discount: 500, payable: 9500 } },
    { name: 'an empty basket takes no coupon', basket: { amount: 0, currency: 'EUR' }, coupons: ['a', 'e', 'b'], want: null },
    { name: 'same value and expiry between kinds: id decides', basket: { amount: 2000, currency: 'EUR' }, coupons: ['l', 'a'], want: { id: 'a', discount: 500, payable: 1500 } },
    { name: 'uncapped percentage rounds down', basket: { amount: 2001, currency: 'EUR' }, coupons: ['l'], want: { id: 'l', discount: 500, payable: 1501 } },
    { name: 'no coupons', basket: { amount: 2000, currency: 'EUR' }, coupons: [], want: null },
  ];
  for (const r of rows)
    test(r.name, () => {
      const list = r.coupons.map((id) => COUPONS[id]!);
      const got = bestCoupon(r.basket, list, NOW);
      assert.deepEqual(got && { id: got.coupon.id, discount: got.discount, payable: got.payable }, r.want);
      const reversed = bestCoupon(r.basket, [...list].reverse(), NOW);
      assert.equal(reversed?.coupon.id, got?.coupon.id, 'the input order does not matter');
    });

  test('on random baskets the choice is never beaten, never negative, and order-independent', () => {
    const rnd = seededRandom(42);
    const all = Object.values(COUPONS);
    for (let i = 0; i < 2000; i++) {
      const basket = { amount: rnd.int(12_000), currency: rnd.float() < 0.9 ? 'EUR' : 'USD' };
      const subset = all.filter(() => rnd.float() < 0.4);
      const best = bestCoupon(basket, subset, NOW);
      const values = subset.map((x) => evaluateCoupon(basket, x, NOW)).filter((e) => e.applicable);
      if (best === null) {
        assert.equal(values.length, 0);
        continue;
      }
      assert.ok(best.payable >= 0 && best.discount >= 0 && best.payable + best.discount === basket.amount);
      assert.ok(Number.isInteger(best.discount));
      const chosen = evaluateCoupon(basket, best.coupon, NOW);
      assert.ok(chosen.applicable);
      for (const v of values) if (v.applicable) assert.ok(v.value <= chosen.value);
      const shuffled = [...subset].sort(() => rnd.float() - 0.5);
      assert.equal(bestCoupon(basket, shuffled, NOW)?.coupon.id, best.coupon.id);
    }
  });

  test('a bad basket is refused; a bad reward too', () => {
    assert.throws(() => bestCoupon({ amount: -1, currency: 'EUR' }, [], NOW), { code: 'basket_invalid' });
    assert.throws(() => bestCoupon({ amount: 1.5, currency: 'EUR' }, [], NOW), { code: 'basket_invalid' });
    assert.throws(() => checkReward({ kind: 'percent_off', percent: 101, cap: null }), { code: 'reward_invalid' });
    assert.throws(() => checkReward({ kind: 'spend_save', threshold: 100, amount: 200 }), { code: 'reward_invalid' });
    assert.throws(() => checkReward({ kind: 'amount_off', amount: 0 }), { code: 'reward_invalid' });
    assert.throws(() => checkReward({ kind: 'bogus' } as never), { code: 'reward_invalid' });
    assert.deepEqual(checkReward({ kind: 'percent_off', percent: 5 } as never), { kind: 'percent_off', percent: 5, cap: null });
  });
});

describe('holdout', () => {
  const ids = Array.from({ length: 20_000 }, (_, i) => `mem_${i.toString(36)}`);

  test('stable: the same campaign and member always land in the same group', () => {
    for (const id of ids.slice(0, 500)) {
      assert.equal(inHoldout('secret', 'cmp_1', id, 10), inHoldout('secret', 'cmp_1', id, 10));
      assert.equal(holdoutDraw(Buffer.from('secret'), 'cmp_1', id), holdoutDraw('secret', 'cmp_1', id));
    }
  });

  test('about 10 % on a large sample, uniform draws, independent across campaigns and secrets', () => {
    const inA = ids.filter((id) => inHoldout('secret', 'cmp_a', id, 10));
    const share = inA.length / ids.length;
    // The binomial standard deviation is 0.21 points: ±1 point is almost five of them.
    assert.ok(Math.abs(share - 0.1) < 0.01, `share ${share}`);
    const inB = new Set(ids.filter((id) => inHoldout('secret', 'cmp_b', id, 10)));
    const both = inA.filter((id) => inB.has(id)).length / ids.length;
    assert.ok(Math.abs(both - 0.01) < 0.004, `overlap ${both}`);
    const otherSecret = new Set(ids.filter((id) => inHoldout('other secret', 'cmp_a', id, 10)));
    assert.ok(inA.filter((id) => otherSecret.has(id)).length / ids.length < 0.02, 'the secret changes the assignment');
    // Chi-square over ten bins of the draw: 9 degrees of freedom, 27.88 is the 0.1 % critical value.
    const bins = new Array<number>(10).fill(0);
    for (const id of ids) bins[Math.floor(holdoutDraw('secret', 'cmp_a', id) * 10)]! += 1;
    const expected = ids.length / 10;
    const chi = bins.reduce((s, o) => s + (o - expected) ** 2 / expected, 0);
    assert.ok(chi < 27.88, `chi-square ${chi}`);
  });

  test('0 % holds nobody out', () => {
    assert.equal(ids.slice(0, 1000).filter((id) => inHoldout('s', 'c', id, 0)).length, 0);
  });
});

describe('uplift statistics', () => {
  test("Student's t quantiles match reference values", () => {
    // Reference values from scipy.stats.t.ppf(0.975, df).
    for (const [df, t] of [
      [1, 12.70620474],
      [10, 2.22813885],
      [30, 2.04227246],
      [2.5, 3.57465484],
    ] as const)
      assert.ok(Math.abs(studentTQuantile(0.975, df) - t) < 1e-6, `df ${df}`);
    assert.ok(Math.abs(studentTQuantile(0.975, 1e7) - 1.959964) < 1e-5);
    assert.ok(Math.abs(studentTQuantile(0.025, 10) + 2.22813885) < 1e-6);
  });

  test("Welch's interval matches a reference computation", () => {
    const a = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
    const b = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
    const w = welchInterval(a, b)!;
    // Reference: scipy.stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95).
    assert.ok(Math.abs(w.df - 24.988529290231416) < 1e-9);
    assert.ok(Math.abs(w.low - -3.984096267140929) < 1e-6);
    assert.ok(Math.abs(w.high - -0.3492370661924069) < 1e-6);
  });

  test('too few values give no interval; no variance collapses it', () => {
    assert.equal(welchInterval([1], [1, 2]), null);
    assert.deepEqual(
      (({ difference, low, high }) => ({ difference, low, high }))(welchInterval([5, 5, 5], [2, 2])!),
      { difference: 3, low: 3, high: 3 },
    );
  });
});

describe('audiences', () => {
  const DAY = 24 * 3600 * 1000;
  const now = 400 * DAY;
  const m: AudienceMember = { memberId: 'm', joinedAt: now - 10 * DAY, visits: 3, spend: 900, lastVisitAt: now - 40 * DAY, segment: 'active', birthdayMonth: 3, tags: ['vip'] };
  test('each kind', () => {
    assert.equal(inAudience({ kind: 'all' }, m, now, 1), true);
    assert.equal(inAudience({ kind: 'new' }, m, now, 1), true);
    assert.equal(inAudience({ kind: 'new', days: 9 }, m, now, 1), false);
    assert.equal(inAudience({ kind: 'segment', segment: 'active' }, m, now, 1), true);
    assert.equal(inAudience({ kind: 'segment', segment: 'lapsed' }, m, now, 1), false);
    assert.equal(inAudience({ kind: 'birthday_month' }, m, now, 3), true);
    assert.equal(inAudience({ kind: 'birthday_month' }, m, now, 4), false);
    assert.equal(inAudience({ kind: 'birthday_month' }, { ...m, birthdayMonth: null }, now, 3), false);
    assert.equal(inAudience({ kind: 'lapsed', days: 40 }, m, now, 1), true);
    assert.equal(inAudience({ kind: 'lapsed', days: 41 }, m, now, 1), false);
    assert.equal(inAudience({ kind: 'lapsed', days: 5 }, { ...m, lastVisitAt: null }, now, 1), true);
    assert.equal(inAudience({ kind: 'tag', tag: 'vip' }, m, now, 1), true);
    assert.equal(inAudience({ kind: 'tag', tag: 'oat milk' }, m, now, 1), false);
  });
});
