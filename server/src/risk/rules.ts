/**
 * The risk engine's rules as data, with their defaults. Every number here is a default that a
 * merchant's or a shopper's settings may only make stricter (see `tighten` in engine.ts): a
 * setting that would loosen a rule is ignored, so no setting can buy back risk the platform did
 * not accept. Amounts are in minor units of the payment's currency.
 */

/** What the terminal films with. Only a 2-D camera exists today; depth and infrared leave room for stronger liveness later. */
export type TerminalCapability = 'camera_2d' | 'depth' | 'ir';

export interface RiskRules {
  /**
   * Face alone only when the decision's false-match bound (from the population envelope, for the
   * set actually searched) is at most this. Above it a second factor is needed.
   */
  faceAloneMaxFalseMatch: number;
  /** With a second factor the bound may be at most this; above it the face is not used at all. */
  secondFactorMaxFalseMatch: number;
  /**
   * The largest amount face alone may pay, by terminal capability. The phone digits only narrow
   * the search (they are not a secret), so face + digits pays no more than face alone.
   */
  faceAloneLimit: Record<TerminalCapability, number>;
  /** At a merchant where the shopper has never paid, face alone pays at most this. */
  firstVisitFaceAloneLimit: number;
  /** The largest amount any face payment may pay, with the PIN; above it the shopper pays another way. */
  faceMaxAmount: number;
  /**
   * Wrong digits or PINs and failed liveness challenges at this terminal within `recentWindowMs`
   * (whoever they were for) after which every face payment there needs the PIN, and look-alikes
   * are no longer offered the digits.
   */
  terminalFailuresForPin: number;
  /** ... and after which the terminal takes no face payments at all. */
  terminalFailuresForNoFace: number;
  /** Wrong digits or PINs charged to this shopper within `recentWindowMs` after which the digits no longer do: the PIN is asked. */
  shopperFailuresForPin: number;
  /** How far back "recent" failures are counted. */
  recentWindowMs: number;
  /** Every face payment needs a second factor (digits at least). */
  alwaysSecondFactor: boolean;
}

export const DEFAULT_RULES: RiskRules = {
  // The gallery's own target (DEFAULT_POLICY.targetFalseMatchRate): a match it makes passes this.
  faceAloneMaxFalseMatch: 1e-6,
  // A narrowed search (a few thousand templates) states bounds far below this; a bound above it
  // means the envelope could not vouch for the match even with a factor beside it.
  secondFactorMaxFalseMatch: 1e-4,
  // 200.00 with a 2-D camera: what a printed or replayed face could take before a dispute.
  faceAloneLimit: { camera_2d: 20_000, depth: 50_000, ir: 50_000 },
  firstVisitFaceAloneLimit: 5_000,
  // The platform's default FACEPAY_SHOPPER_PAYMENT_LIMIT: it also holds on every path in payments.
  faceMaxAmount: 100_000,
  terminalFailuresForPin: 5,
  terminalFailuresForNoFace: 20,
  shopperFailuresForPin: 2,
  recentWindowMs: 60 * 60 * 1000,
  alwaysSecondFactor: false,
};

/**
 * What a merchant (for its terminals) or a shopper (for themselves) may set. Each field can only
 * tighten its rule: a lower limit, a lower bound, a smaller failure count, `true` for always.
 */
export interface RiskSettings {
  faceAloneLimit?: number | null;
  firstVisitFaceAloneLimit?: number | null;
  faceMaxAmount?: number | null;
  faceAloneMaxFalseMatch?: number | null;
  terminalFailuresForPin?: number | null;
  shopperFailuresForPin?: number | null;
  alwaysSecondFactor?: boolean | null;
}
