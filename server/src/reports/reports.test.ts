import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUCKET_MS, createReportsService, startOfLocalDay, type ReportSources } from './index.ts';

test('local midnights follow the zone, across daylight saving and quarter-hour offsets', () => {
  assert.equal(new Date(startOfLocalDay(2026, 3, 29, 'Europe/Paris')).toISOString(), '2026-03-28T23:00:00.000Z');
  assert.equal(new Date(startOfLocalDay(2026, 3, 30, 'Europe/Paris')).toISOString(), '2026-03-29T22:00:00.000Z');
  assert.equal(new Date(startOfLocalDay(2026, 11, 1, 'Asia/Kathmandu')).toISOString(), '2026-10-31T18:15:00.000Z');
  assert.equal(new Date(startOfLocalDay(2026, 12, 32, 'UTC')).toISOString(), '2027-01-01T00:00:00.000Z');
});

test('buckets fold into the local day, today and the month; the face share counts terminal payments only', async () => {
  // 2026-11-25 10:00 UTC is 11:00 in Paris; 23:30 UTC on the 24th is already the 25th in Paris.
  const now = Date.UTC(2026, 10, 25, 10, 0);
  const lateYesterdayUtc = Date.UTC(2026, 10, 24, 23, 30);
  const earlyMonth = Date.UTC(2026, 10, 1, 9, 0);
  const sources: ReportSources = {
    sales: async () => [
      { bucket: lateYesterdayUtc, currency: 'eur', count: 1, amount: 700, refunded: 0 },
      { bucket: earlyMonth, currency: 'eur', count: 2, amount: 1000, refunded: 100 },
      { bucket: earlyMonth, currency: 'usd', count: 1, amount: 99, refunded: 0 },
    ],
    paidByMethod: async () => [
      { bucket: lateYesterdayUtc, method: 'face', count: 3 },
      { bucket: lateYesterdayUtc, method: 'pay_code', count: 1 },
    ],
    newMembers: async () => [{ bucket: earlyMonth, count: 4 }],
    returningMembers: async () => ({ active: 4, returning: 1 }),
    redemptions: async () => [{ bucket: lateYesterdayUtc, count: 1, discount: 50 }],
    settings: async () => ({ currency: null, timeZone: 'Europe/Paris' }),
  };
  const reports = createReportsService({ sources, clock: { now: () => new Date(now) }, defaultCurrency: 'usd' });
  const d = await reports.dashboard('mer_1');
  assert.equal(d.timeZone, 'Europe/Paris');
  assert.equal(d.currency, 'eur');
  assert.equal(d.today.sales, 700);
  assert.equal(d.today.faceShare, 0.75);
  assert.equal(d.today.redemptions, 1);
  assert.equal(d.month.sales, 1700);
  assert.equal(d.month.newMembers, 4);
  assert.equal(d.month.returningRate, 0.25);
  assert.equal(d.daily.length, 30);
  assert.equal(d.daily[29]!.date, '2026-11-25');
  assert.equal(d.daily[29]!.sales, 700);
  assert.equal(d.daily.find((x) => x.date === '2026-11-01')!.sales, 1000);
  const utc = await reports.dashboard('mer_1', { timeZone: 'UTC' });
  assert.equal(utc.today.sales, 0, 'in UTC that sale was yesterday');
  assert.equal(BUCKET_MS % 60_000, 0);
});
