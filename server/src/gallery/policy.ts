import type { TailModel } from './tail.ts';

/**
 * From exactly re-scored candidates to an answer. With N templates compared, a per-comparison
 * false-match rate f gives about N x f impostors above the threshold per search, so the
 * threshold is the score whose rate is target / N: it rises with the gallery and falls again when
 * the phone digits shrink the set.
 */
export interface DecisionPolicy {
  /** Acceptable probability that a `match` names the wrong shopper (default 1e-6). */
  targetFalseMatchRate: number;
  /**
   * The margin rule against look-alikes and twins: the best other shopper must look like an
   * ordinary chance impostor for a gallery of this size, N x FMR(second) >= 10^-marginDecades.
   * Among N impostors the best one has N x FMR of about 1 (exponentially distributed), so at 2
   * decades about 1 % of genuine searches are sent to the digits by chance, while a second
   * shopper scoring far above what chance gives (a twin, a sibling, the same person enrolled
   * twice) always is. Since a match needs N x FMR(first) <= the target, the first and second
   * are then at least 10^(marginDecades) / target apart in FMR.
   */
  marginDecades: number;
}

export const DEFAULT_POLICY: DecisionPolicy = { targetFalseMatchRate: 1e-6, marginDecades: 2 };

export interface ScoredShopper {
  shopperId: string;
  /** The best exact cosine over the shopper's templates. */
  score: number;
  alwaysAsk: boolean;
  phoneSuffixMac: string | null;
}

export type Decision =
  | {
      outcome: 'match';
      shopperId: string;
      score: number;
      /** Expected probability that this answer is a false match: about N x FMR(score), at most 1. */
      falseMatchProbability: number;
      threshold: number;
      comparedTemplates: number;
      narrowed: boolean;
    }
  | {
      outcome: 'ambiguous';
      reason: 'below_threshold' | 'margin' | 'always_ask';
      /** What to ask for next. */
      ask: 'phone_last4';
      /**
       * The shoppers the face could be: those ranked whose score would pass the threshold of the
       * set narrowed to their own digits, best first. Wrong digits are charged to each of them, so
       * guessing across attempts and terminals reaches every one's lockout, not only the terminal's.
       */
      candidates: string[];
      threshold: number;
      comparedTemplates: number;
    }
  | {
      outcome: 'no_match';
      reason: 'empty' | 'below_threshold' | 'margin';
      threshold: number;
      comparedTemplates: number;
      narrowed: boolean;
    };

export function thresholdForGallery(tail: TailModel, policy: DecisionPolicy, templates: number): number {
  return tail.thresholdFor(policy.targetFalseMatchRate / Math.max(1, templates));
}

export function falseMatchProbability(tail: TailModel, score: number, templates: number): number {
  const f = tail.fmrAt(score);
  // 1 - (1 - f)^N, computed without losing small values.
  return Math.min(1, -Math.expm1(Math.max(1, templates) * Math.log1p(-Math.min(f, 1 - 1e-16))));
}

function marginHolds(tail: TailModel, policy: DecisionPolicy, second: ScoredShopper | undefined, templates: number): boolean {
  if (second === undefined) return true;
  return Math.max(1, templates) * tail.fmrAt(second.score) >= 10 ** -policy.marginDecades;
}

/** The digits bar: whether this shopper's score would pass the threshold of the set narrowed to their digits (false when they gave no phone). */
async function passesWithDigits(
  s: ScoredShopper,
  tail: TailModel,
  policy: DecisionPolicy,
  narrowedSize: (first: ScoredShopper) => Promise<number | undefined>,
): Promise<boolean> {
  if (s.score < thresholdForGallery(tail, policy, 1)) return false;
  const n = await narrowedSize(s);
  return n !== undefined && n > 0 && s.score >= thresholdForGallery(tail, policy, n);
}

/**
 * The first decision, over the whole searched gallery. `narrowedSize(first)` answers how many
 * templates a search narrowed to the best candidate's phone suffix would compare (undefined
 * when that shopper gave no phone): asking for the digits is only worth it if the best score
 * could pass the threshold of that smaller set.
 */
export async function decide(
  ranked: readonly ScoredShopper[],
  comparedTemplates: number,
  tail: TailModel,
  policy: DecisionPolicy,
  narrowedSize: (first: ScoredShopper) => Promise<number | undefined>,
): Promise<Decision> {
  const threshold = thresholdForGallery(tail, policy, comparedTemplates);
  const first = ranked[0];
  if (first === undefined) return { outcome: 'no_match', reason: 'empty', threshold, comparedTemplates, narrowed: false };
  const margin = marginHolds(tail, policy, ranked[1], comparedTemplates);
  if (first.score >= threshold && margin && !first.alwaysAsk) {
    return {
      outcome: 'match',
      shopperId: first.shopperId,
      score: first.score,
      falseMatchProbability: falseMatchProbability(tail, first.score, comparedTemplates),
      threshold,
      comparedTemplates,
      narrowed: false,
    };
  }
  // Not even a set of one template would accept this score: asking for digits cannot help.
  if (first.score < thresholdForGallery(tail, policy, 1)) {
    return { outcome: 'no_match', reason: 'below_threshold', threshold, comparedTemplates, narrowed: false };
  }
  if (await passesWithDigits(first, tail, policy, narrowedSize)) {
    const reason = first.alwaysAsk ? 'always_ask' : first.score < threshold ? 'below_threshold' : 'margin';
    const candidates = [first.shopperId];
    for (const other of ranked.slice(1)) if (await passesWithDigits(other, tail, policy, narrowedSize)) candidates.push(other.shopperId);
    return { outcome: 'ambiguous', reason, ask: 'phone_last4', threshold, comparedTemplates, candidates };
  }
  return { outcome: 'no_match', reason: first.score >= threshold ? 'margin' : 'below_threshold', threshold, comparedTemplates, narrowed: false };
}

/** The second decision, over the shoppers who share the digits given: match or no_match. */
export function decideNarrowed(ranked: readonly ScoredShopper[], comparedTemplates: number, tail: TailModel, policy: DecisionPolicy): Decision {
  const threshold = thresholdForGallery(tail, policy, comparedTemplates);
  const first = ranked[0];
  if (first === undefined) return { outcome: 'no_match', reason: 'empty', threshold, comparedTemplates, narrowed: true };
  if (first.score < threshold) return { outcome: 'no_match', reason: 'below_threshold', threshold, comparedTemplates, narrowed: true };
  if (!marginHolds(tail, policy, ranked[1], comparedTemplates)) return { outcome: 'no_match', reason: 'margin', threshold, comparedTemplates, narrowed: true };
  return {
    outcome: 'match',
    shopperId: first.shopperId,
    score: first.score,
    falseMatchProbability: falseMatchProbability(tail, first.score, comparedTemplates),
    threshold,
    comparedTemplates,
    narrowed: true,
  };
}

/** Best exact score per shopper, best first. */
export function rankShoppers(scored: readonly ScoredShopper[]): ScoredShopper[] {
  const best = new Map<string, ScoredShopper>();
  for (const s of scored) {
    const b = best.get(s.shopperId);
    if (b === undefined || s.score > b.score) best.set(s.shopperId, s);
  }
  return [...best.values()].sort((a, b) => b.score - a.score);
}
