import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_POLICY, decide, decideNarrowed, thresholdForGallery, type ScoredShopper } from './policy.ts';
import { fitImpostorTail } from './tail.ts';
import { syntheticCalibration } from './testing.ts';

const tail = fitImpostorTail(syntheticCalibration());
const s = (shopperId: string, score: number, extra: Partial<ScoredShopper> = {}): ScoredShopper => ({
  shopperId,
  score,
  alwaysAsk: false,
  phoneSuffixMac: 'mac',
  ...extra,
});
const narrow = (n: number | undefined) => async () => n;

test('the threshold rises with the gallery size', () => {
  const t1k = thresholdForGallery(tail, DEFAULT_POLICY, 1_000);
  const t1m = thresholdForGallery(tail, DEFAULT_POLICY, 1_000_000);
  assert.ok(t1m > t1k);
  assert.ok(tail.fmrAt(t1m) <= DEFAULT_POLICY.targetFalseMatchRate / 1_000_000);
});

test('a clear best candidate above the threshold is a match with its false-match probability', async () => {
  const d = await decide([s('a', 0.95), s('b', 0.2)], 1_000_000, tail, DEFAULT_POLICY, narrow(100));
  assert.equal(d.outcome, 'match');
  if (d.outcome !== 'match') return;
  assert.equal(d.shopperId, 'a');
  assert.ok(d.falseMatchProbability > 0 && d.falseMatchProbability <= DEFAULT_POLICY.targetFalseMatchRate);
});

test('two shoppers close together (twins) are ambiguous even above the threshold', async () => {
  const t = thresholdForGallery(tail, DEFAULT_POLICY, 1000);
  const d = await decide([s('a', t + 0.05), s('b', t + 0.04)], 1000, tail, DEFAULT_POLICY, narrow(5));
  assert.equal(d.outcome, 'ambiguous');
  if (d.outcome === 'ambiguous') assert.equal(d.reason, 'margin');
});

test('an ambiguous decision names as candidates every ranked shopper above the digits bar, and no one below it or without a phone', async () => {
  const tBig = thresholdForGallery(tail, DEFAULT_POLICY, 1_000_000);
  const tSmall = thresholdForGallery(tail, DEFAULT_POLICY, 100);
  const mid = (tBig + tSmall) / 2;
  // a and b look alike above the bar of a set of 100; c has no phone, d is below the bar.
  const ranked = [s('a', mid + 0.01), s('b', mid), s('c', mid, { phoneSuffixMac: null }), s('d', tSmall - 0.01)];
  const sizes = new Map<string, number | undefined>([['a', 100], ['b', 100], ['c', undefined], ['d', 100]]);
  const d = await decide(ranked, 1_000_000, tail, DEFAULT_POLICY, async (x) => sizes.get(x.shopperId));
  assert.equal(d.outcome, 'ambiguous');
  if (d.outcome === 'ambiguous') assert.deepEqual(d.candidates, ['a', 'b']);
  // A look-alike whose own digits are shared by many more templates is below their bar.
  sizes.set('b', 1_000_000);
  const e = await decide(ranked, 1_000_000, tail, DEFAULT_POLICY, async (x) => sizes.get(x.shopperId));
  if (e.outcome === 'ambiguous') assert.deepEqual(e.candidates, ['a']);
  else assert.fail(`expected ambiguous, got ${e.outcome}`);
});

test('a shopper who always wants to be asked is asked', async () => {
  const d = await decide([s('a', 0.95, { alwaysAsk: true })], 1000, tail, DEFAULT_POLICY, narrow(5));
  assert.equal(d.outcome, 'ambiguous');
  if (d.outcome === 'ambiguous') assert.equal(d.reason, 'always_ask');
});

test('between the narrowed and the full threshold the answer is ambiguous, below both no_match', async () => {
  const tBig = thresholdForGallery(tail, DEFAULT_POLICY, 1_000_000);
  const tSmall = thresholdForGallery(tail, DEFAULT_POLICY, 100);
  const mid = (tBig + tSmall) / 2;
  assert.equal((await decide([s('a', mid)], 1_000_000, tail, DEFAULT_POLICY, narrow(100))).outcome, 'ambiguous');
  assert.equal((await decide([s('a', mid)], 1_000_000, tail, DEFAULT_POLICY, narrow(undefined))).outcome, 'no_match');
  assert.equal((await decide([s('a', tSmall - 0.01)], 1_000_000, tail, DEFAULT_POLICY, narrow(100))).outcome, 'no_match');
  assert.equal((await decide([], 1_000_000, tail, DEFAULT_POLICY, narrow(100))).outcome, 'no_match');
});

test('the narrowed decision uses the smaller set and still applies the margin', () => {
  const tSmall = thresholdForGallery(tail, DEFAULT_POLICY, 10);
  assert.equal(decideNarrowed([s('a', tSmall + 0.01)], 10, tail, DEFAULT_POLICY).outcome, 'match');
  assert.equal(decideNarrowed([s('a', tSmall + 0.01), s('b', tSmall)], 10, tail, DEFAULT_POLICY).outcome, 'no_match');
  assert.equal(decideNarrowed([s('a', tSmall - 0.01)], 10, tail, DEFAULT_POLICY).outcome, 'no_match');
});
