/**
 * The members service: one object built from the parts that each own one thing (programme,
 * joining and consent, purchases, the CRM, marketing's audience), over one shared context.
 */
import { audienceOps } from './audience.ts';
import { crmOps } from './crm.ts';
import { joiningOps } from './joining.ts';
import { programmeOps } from './programme.ts';
import { purchasesOps } from './purchases.ts';
import { createContext } from './shared.ts';
import { MEMBERSHIP_CONSENT, type MembersServiceDeps } from './types.ts';

export function createMembersService(deps: MembersServiceDeps) {
  const ctx = createContext(deps);
  return {
    consent: MEMBERSHIP_CONSENT,
    ...programmeOps(ctx),
    ...joiningOps(ctx),
    ...purchasesOps(ctx),
    ...crmOps(ctx),
    ...audienceOps(ctx),
  };
}

export type MembersService = ReturnType<typeof createMembersService>;
