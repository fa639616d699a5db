/**
 * What the membership CRM and on-terminal offers cost on this machine: seeding the demo CRM, then
 * the calls a terminal and a console make, against the baseline of a primary-key lookup of one
 * member on the same database (the floor for any call that touches it). SQLite always; also
 * PostgreSQL at the smaller size when FACEPAY_PG_URL is set.
 *
 *   npm run bench:crm [-- --quick] [-- --json]
 */
import { cpus, totalmem } from 'node:os';
import { createMarketingService, MarketingRepo, marketingMigrations, bestCoupon, type CouponCandidate } from '../src/marketing/index.ts';
import { createMembersService, MemberRepo, memberMigrations, seedDemoCrm } from '../src/members/index.ts';
import { ManualClock, seededRandom, sequentialIds } from '../src/platform/index.ts';
import { freshDb, pgUrl } from '../src/storage/testing.ts';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const json = args.has('--json');
const SIZES = quick ? [300] : [300, 3000];
const CALLS = quick ? 100 : 300;

function log(line: string): void {
  // With --json only the last stdout line is the result object; the rest goes to stderr.
  (json ? process.stderr : process.stdout).write(`${line}\n`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

async function timed(n: number, fn: (i: number) => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p95: percentile(ms, 95) };
}

async function bench(dialect: 'sqlite' | 'postgres', size: number): Promise<Record<string, number>> {
  const db = await freshDb(dialect, [...memberMigrations, ...marketingMigrations]);
  try {
    const clock = new ManualClock('2026-11-25T10:00:00Z');
    const members = createMembersService({ repo: new MemberRepo(db), clock, random: seededRandom(1) });
    const marketing = createMarketingService({ repo: new MarketingRepo(db), members, clock, ids: sequentialIds(), holdoutSecret: 'bench' });
    const t0 = performance.now();
    const seeded = await seedDemoCrm({ members, marketing, clock, random: seededRandom(2), merchantId: 'mer_bench', storeIds: ['sto_a', 'sto_b', 'sto_c'], memberCount: size });
    const seedMs = performance.now() - t0;
    if (seeded === null) throw new Error('the bench database was not empty');
    const ids = seeded.memberIds;
    const pick = (i: number) => ids[(i * 7919) % ids.length]!;
    const basket = { amount: 4200, currency: 'CNY' };

    const baseline = await timed(CALLS, (i) => members.shopperIdFor('mer_bench', pick(i)));
    const offers = await timed(CALLS, (i) => marketing.offersFor('mer_bench', pick(i), basket).catch(() => undefined));
    const profile = await timed(CALLS, (i) => members.getMember('mer_bench', pick(i)));
    const list = await timed(Math.ceil(CALLS / 10), () => members.listMembers('mer_bench', { segment: 'at_risk' }, { limit: 50 }));
    const csv = await timed(3, () => members.exportCsv('mer_bench', { status: 'all' }));
    const results = await timed(3, () => marketing.results('mer_bench', seeded.campaigns.welcome));
    const row = {
      members: size,
      purchases: seeded.purchases,
      seed_ms: round(seedMs, 0),
      baseline_pk_lookup_p50_ms: round(baseline.p50, 3),
      offers_for_p50_ms: round(offers.p50, 3),
      offers_for_p95_ms: round(offers.p95, 3),
      get_member_p50_ms: round(profile.p50, 3),
      list_members_p50_ms: round(list.p50),
      export_csv_p50_ms: round(csv.p50),
      campaign_results_p50_ms: round(results.p50),
      offers_for_vs_baseline: round(offers.p50 / Math.max(baseline.p50, 1e-6), 1),
    };
    log(`${dialect} ${size} members: ${JSON.stringify(row)}`);
    return row;
  } finally {
    await db.dispose();
  }
}

function bestCouponBench(): Record<string, number> {
  const rnd = seededRandom(3);
  const coupons: CouponCandidate[] = Array.from({ length: 10 }, (_, i) => ({
    id: `c${i}`,
    reward: i % 2 ? { kind: 'amount_off', amount: 100 + rnd.int(900), minSpend: rnd.int(5000) } : { kind: 'percent_off', percent: 5 + rnd.int(20), cap: 1500 },
    currency: 'CNY',
    validFrom: 0,
    validTo: 10_000 + i,
  }));
  const n = quick ? 50_000 : 500_000;
  let sink = 0;
  const t = performance.now();
  for (let i = 0; i < n; i++) sink += bestCoupon({ amount: 500 + (i % 9000), currency: 'CNY' }, coupons, 5000)?.discount ?? 0;
  const us = ((performance.now() - t) * 1000) / n;
  log(`bestCoupon over 10 coupons: ${round(us, 3)} µs a call (checksum ${sink})`);
  return { best_coupon_us_per_call_10_coupons: round(us, 3) };
}

const cpu = cpus();
log(`machine: ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores, ${round(totalmem() / 2 ** 30, 1)} GiB, node ${process.version}${quick ? ' (quick)' : ''}`);
const out: Record<string, unknown> = {
  machine: { cpu: cpu[0]?.model, cores: cpu.length, memory_gib: round(totalmem() / 2 ** 30, 1), node: process.version },
  quick,
  ...bestCouponBench(),
};
for (const size of SIZES) out[`sqlite_${size}`] = await bench('sqlite', size);
if (pgUrl) out[`postgres_${SIZES[0]}`] = await bench('postgres', SIZES[0]!);
else log('FACEPAY_PG_URL is not set: PostgreSQL skipped');
if (json) process.stdout.write(`${JSON.stringify(out)}\n`);
