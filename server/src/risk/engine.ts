import { DEFAULT_RULES, type RiskRules, type RiskSettings, type TerminalCapability } from './rules.ts';

/** How this face payment may go on: face alone, face + phone digits, face + PIN, or another way to pay. */
export type RiskChoice = 'face' | 'face_digits' | 'face_pin' | 'no_face';

/** Why: stable codes that the merchant and the shopper see. Never an image, a template or a score. */
export type ReasonCode =
  | 'liveness_failed'
  | 'liveness_signal_failed'
  | 'look_alike'
  | 'false_match_bound_ok'
  | 'false_match_bound_above_face_alone'
  | 'false_match_bound_too_high'
  | 'amount_within_face_alone_limit'
  | 'amount_above_face_alone_limit'
  | 'first_visit_at_merchant'
  | 'amount_above_face_max'
  | 'terminal_recent_failures'
  | 'terminal_blocked'
  | 'shopper_recent_failures'
  | 'always_second_factor'
  | 'pin_not_set';

export interface LivenessEvidence {
  /** The server-timed challenge's verdict (the face engine's active check). */
  challenge: 'passed' | 'failed';
  /** Room for more signals (passive PAD, depth, infrared): any `fail` sends the shopper another way. */
  signals?: readonly { name: string; verdict: 'pass' | 'fail' | 'unsure' }[];
}

export interface RiskInput {
  /** What the gallery said: a named shopper with the bound for the set it searched, or look-alikes it cannot tell apart. */
  identification: { kind: 'match'; falseMatchBound: number } | { kind: 'look_alike' };
  liveness: LivenessEvidence;
  terminal: { capability: TerminalCapability; recentFailures: number };
  amount: number;
  /** Known once the gallery named someone. */
  shopper?: { paidHereBefore: boolean; recentFailures: number; hasPin: boolean };
}

export interface RiskDecision {
  choice: RiskChoice;
  reasons: ReasonCode[];
  /** The most this attempt may charge once the choice's factor has passed (0 for `no_face`). */
  maxAmount: number;
}

const tighterNumber = (rule: number, setting: number | null | undefined): number =>
  typeof setting === 'number' && Number.isFinite(setting) && setting >= 0 && setting < rule ? setting : rule;

/** The rules with each setting applied only where it is stricter; a loosening setting is ignored. */
export function tighten(rules: RiskRules, ...settings: (RiskSettings | undefined)[]): RiskRules {
  let r = { ...rules, faceAloneLimit: { ...rules.faceAloneLimit } };
  for (const s of settings) {
    if (s === undefined) continue;
    const caps = Object.keys(r.faceAloneLimit) as TerminalCapability[];
    for (const c of caps) r.faceAloneLimit[c] = tighterNumber(r.faceAloneLimit[c], s.faceAloneLimit);
    r = {
      ...r,
      firstVisitFaceAloneLimit: tighterNumber(r.firstVisitFaceAloneLimit, s.firstVisitFaceAloneLimit),
      faceMaxAmount: tighterNumber(r.faceMaxAmount, s.faceMaxAmount),
      faceAloneMaxFalseMatch: tighterNumber(r.faceAloneMaxFalseMatch, s.faceAloneMaxFalseMatch),
      terminalFailuresForPin: tighterNumber(r.terminalFailuresForPin, s.terminalFailuresForPin),
      shopperFailuresForPin: tighterNumber(r.shopperFailuresForPin, s.shopperFailuresForPin),
      alwaysSecondFactor: r.alwaysSecondFactor || s.alwaysSecondFactor === true,
    };
  }
  return r;
}

/**
 * The decision for one face payment. Pure: the same input and rules always give the same choice
 * and reasons. Called again after each factor passes (the digits name someone the first search
 * could not): the choice is what the payment needs in all, so the caller checks it against the
 * factors already passed.
 */
export function decide(input: RiskInput, rules: RiskRules = DEFAULT_RULES): RiskDecision {
  const no = (...reasons: ReasonCode[]): RiskDecision => ({ choice: 'no_face', reasons, maxAmount: 0 });
  if (input.liveness.challenge !== 'passed') return no('liveness_failed');
  if (input.liveness.signals?.some((s) => s.verdict === 'fail')) return no('liveness_signal_failed');
  if (input.terminal.recentFailures >= rules.terminalFailuresForNoFace) return no('terminal_blocked');
  if (input.amount > rules.faceMaxAmount) return no('amount_above_face_max');

  const id = input.identification;
  const capLimit = rules.faceAloneLimit[input.terminal.capability];
  // Who it is is not known yet: only the digits can narrow the search. What follows is decided
  // again on the narrowed match.
  if (id.kind === 'look_alike') {
    // Nobody is known to ask for a PIN, so where guesses have failed lately the digits are not offered either.
    if (input.terminal.recentFailures >= rules.terminalFailuresForPin) return no('look_alike', 'terminal_recent_failures');
    return { choice: 'face_digits', reasons: ['look_alike'], maxAmount: Math.min(capLimit, rules.faceMaxAmount) };
  }

  const reasons: ReasonCode[] = [];
  if (id.falseMatchBound > rules.secondFactorMaxFalseMatch) return no('false_match_bound_too_high');
  let second = false;
  let pin = false;
  if (id.falseMatchBound > rules.faceAloneMaxFalseMatch) {
    second = true;
    reasons.push('false_match_bound_above_face_alone');
  } else reasons.push('false_match_bound_ok');
  if (rules.alwaysSecondFactor) {
    second = true;
    reasons.push('always_second_factor');
  }
  const shopper = input.shopper ?? { paidHereBefore: false, recentFailures: 0, hasPin: false };
  const faceLimit = shopper.paidHereBefore ? capLimit : Math.min(capLimit, rules.firstVisitFaceAloneLimit);
  if (input.amount > faceLimit) {
    pin = true;
    reasons.push(input.amount > capLimit ? 'amount_above_face_alone_limit' : 'first_visit_at_merchant');
  } else reasons.push('amount_within_face_alone_limit');
  if (input.terminal.recentFailures >= rules.terminalFailuresForPin) {
    pin = true;
    reasons.push('terminal_recent_failures');
  }
  if (shopper.recentFailures >= rules.shopperFailuresForPin) {
    pin = true;
    reasons.push('shopper_recent_failures');
  }
  if (pin) {
    if (!shopper.hasPin) return no(...reasons, 'pin_not_set');
    return { choice: 'face_pin', reasons, maxAmount: rules.faceMaxAmount };
  }
  return { choice: second ? 'face_digits' : 'face', reasons, maxAmount: faceLimit };
}

/** Whether the factors an attempt has passed are enough for this choice (the PIN is stronger than the digits). */
export function satisfied(choice: RiskChoice, passed: { digits: boolean; pin: boolean }): boolean {
  switch (choice) {
    case 'face':
      return true;
    case 'face_digits':
      return passed.digits || passed.pin;
    case 'face_pin':
      return passed.pin;
    case 'no_face':
      return false;
  }
}
