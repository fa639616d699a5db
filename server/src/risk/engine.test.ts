import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide, DEFAULT_RULES, satisfied, tighten, type RiskChoice, type RiskInput, type ReasonCode } from './index.ts';

const base: RiskInput = {
  identification: { kind: 'match', falseMatchBound: 1e-7 },
  liveness: { challenge: 'passed' },
  terminal: { capability: 'camera_2d', recentFailures: 0 },
  amount: 1_500,
  shopper: { paidHereBefore: true, recentFailures: 0, hasPin: true },
};
const with_ = (patch: Partial<RiskInput>, shopper: Partial<NonNullable<RiskInput['shopper']>> = {}): RiskInput => ({
  ...base,
  ...patch,
  shopper: { ...base.shopper!, ...shopper },
});

const cases: [string, RiskInput, RiskChoice, ReasonCode[], number][] = [
  ['a regular shopper, a small amount, a confident match', base, 'face', ['false_match_bound_ok', 'amount_within_face_alone_limit'], 20_000],
  ['look-alikes the gallery cannot tell apart', with_({ identification: { kind: 'look_alike' } }), 'face_digits', ['look_alike'], 20_000],
  ['a bound above the face-alone rule', with_({ identification: { kind: 'match', falseMatchBound: 5e-6 } }), 'face_digits', ['false_match_bound_above_face_alone', 'amount_within_face_alone_limit'], 20_000],
  ['a bound the envelope cannot vouch for', with_({ identification: { kind: 'match', falseMatchBound: 1e-3 } }), 'no_face', ['false_match_bound_too_high'], 0],
  ['above the face-alone limit, with a PIN', with_({ amount: 20_001 }), 'face_pin', ['false_match_bound_ok', 'amount_above_face_alone_limit'], 100_000],
  ['above the face-alone limit, without a PIN', with_({ amount: 20_001 }, { hasPin: false }), 'no_face', ['false_match_bound_ok', 'amount_above_face_alone_limit', 'pin_not_set'], 0],
  ['above the largest face payment', with_({ amount: 100_001 }), 'no_face', ['amount_above_face_max'], 0],
  ['first visit at this merchant, a small amount', with_({ amount: 5_000 }, { paidHereBefore: false }), 'face', ['false_match_bound_ok', 'amount_within_face_alone_limit'], 5_000],
  ['first visit at this merchant, above its limit', with_({ amount: 5_001 }, { paidHereBefore: false }), 'face_pin', ['false_match_bound_ok', 'first_visit_at_merchant'], 100_000],
  ['failures at this terminal', with_({ terminal: { capability: 'camera_2d', recentFailures: 5 } }), 'face_pin', ['false_match_bound_ok', 'amount_within_face_alone_limit', 'terminal_recent_failures'], 100_000],
  ['look-alikes at a terminal with recent failures', with_({ identification: { kind: 'look_alike' }, terminal: { capability: 'camera_2d', recentFailures: 5 } }), 'no_face', ['look_alike', 'terminal_recent_failures'], 0],
  ['a terminal under attack', with_({ terminal: { capability: 'camera_2d', recentFailures: 20 } }), 'no_face', ['terminal_blocked'], 0],
  ['wrong factors for this shopper lately', with_({}, { recentFailures: 2 }), 'face_pin', ['false_match_bound_ok', 'amount_within_face_alone_limit', 'shopper_recent_failures'], 100_000],
  ['a failed liveness challenge', with_({ liveness: { challenge: 'failed' } }), 'no_face', ['liveness_failed'], 0],
  ['a failed extra liveness signal', with_({ liveness: { challenge: 'passed', signals: [{ name: 'passive_pad', verdict: 'fail' }] } }), 'no_face', ['liveness_signal_failed'], 0],
  ['an unsure extra signal changes nothing', with_({ liveness: { challenge: 'passed', signals: [{ name: 'passive_pad', verdict: 'unsure' }] } }), 'face', ['false_match_bound_ok', 'amount_within_face_alone_limit'], 20_000],
  ['a depth camera allows more face alone', with_({ amount: 30_000, terminal: { capability: 'depth', recentFailures: 0 } }), 'face', ['false_match_bound_ok', 'amount_within_face_alone_limit'], 50_000],
];

for (const [name, input, choice, reasons, maxAmount] of cases) {
  test(`risk: ${name} -> ${choice}`, () => {
    assert.deepEqual(decide(input), { choice, reasons, maxAmount });
  });
}

test('settings only tighten the rules: a loosening setting is ignored', () => {
  const loose = tighten(DEFAULT_RULES, { faceAloneLimit: 1_000_000, faceMaxAmount: 10_000_000, faceAloneMaxFalseMatch: 0.5, shopperFailuresForPin: 50, alwaysSecondFactor: false });
  assert.deepEqual(loose, DEFAULT_RULES);
  assert.deepEqual(decide(with_({ amount: 25_000 }), loose).choice, 'face_pin');
  // Nonsense is ignored too, never taken as "no limit".
  assert.deepEqual(tighten(DEFAULT_RULES, { faceAloneLimit: -1, faceMaxAmount: Number.NaN }), DEFAULT_RULES);
  const strict = tighten(DEFAULT_RULES, { faceAloneLimit: 1_000 }, { faceMaxAmount: 10_000, alwaysSecondFactor: true });
  assert.equal(strict.faceAloneLimit.camera_2d, 1_000);
  assert.equal(strict.faceMaxAmount, 10_000);
  assert.deepEqual(decide(base, strict), { choice: 'face_pin', reasons: ['false_match_bound_ok', 'always_second_factor', 'amount_above_face_alone_limit'], maxAmount: 10_000 });
  assert.deepEqual(decide(with_({ amount: 500 }), strict), { choice: 'face_digits', reasons: ['false_match_bound_ok', 'always_second_factor', 'amount_within_face_alone_limit'], maxAmount: 1_000 });
  // The merchant's and the shopper's settings: the stricter of the two wins, whichever comes first.
  assert.equal(tighten(DEFAULT_RULES, { faceAloneLimit: 3_000 }, { faceAloneLimit: 8_000 }).faceAloneLimit.camera_2d, 3_000);
  assert.equal(tighten(DEFAULT_RULES, { faceAloneLimit: 8_000 }, { faceAloneLimit: 3_000 }).faceAloneLimit.camera_2d, 3_000);
});

test('which passed factors satisfy each choice', () => {
  assert.equal(satisfied('face', { digits: false, pin: false }), true);
  assert.equal(satisfied('face_digits', { digits: true, pin: false }), true);
  assert.equal(satisfied('face_digits', { digits: false, pin: false }), false);
  assert.equal(satisfied('face_pin', { digits: true, pin: false }), false);
  assert.equal(satisfied('face_pin', { digits: false, pin: true }), true);
  assert.equal(satisfied('no_face', { digits: true, pin: true }), false);
});
