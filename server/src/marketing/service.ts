/**
 * The marketing service: one object built from the parts that each own one thing (campaigns,
 * issuing coupons, redemption at the terminal, results, the shopper's inbox), over one shared context.
 */
import { campaignOps } from './campaigns.ts';
import { inboxOps } from './inbox.ts';
import { issuingOps } from './issuing.ts';
import { redemptionOps } from './redemption.ts';
import { resultsOps } from './results.ts';
import { createContext } from './shared.ts';
import type { MarketingServiceDeps } from './types.ts';

export function createMarketingService(deps: MarketingServiceDeps) {
  const ctx = createContext(deps);
  return {
    ...campaignOps(ctx),
    ...issuingOps(ctx),
    ...redemptionOps(ctx),
    ...resultsOps(ctx),
    ...inboxOps(ctx),
  };
}

export type MarketingService = ReturnType<typeof createMarketingService>;
