import type { RouteRegistrar } from '../types.ts';
import { registerAppRoutes } from './apps.ts';
import { registerCardRoutes } from './card.ts';
import { registerDeviceRoutes } from './devices.ts';
import { registerDisputeRoutes } from './disputes.ts';
import { registerFacePayRoutes } from './facepay.ts';
import { registerMarketingRoutes } from './marketing.ts';
import { registerMemberRoutes } from './members.ts';
import { registerMerchantRoutes } from './merchants.ts';
import { registerOperatorRoutes } from './operator.ts';
import { registerOperatorConsoleRoutes } from './operator-console.ts';
import { registerMetaRoutes } from './meta.ts';
import { registerPaymentRoutes } from './payments.ts';
import { registerShopperCrmRoutes } from './shopper-crm.ts';
import { registerShopperRoutes } from './shoppers.ts';
import { registerStaffRoutes } from './staff.ts';
import { registerReportRoutes } from './reports.ts';
import { registerResetRoutes } from './resets.ts';
import { registerWebhookRoutes } from './webhooks.ts';
import { registerSettlementRoutes } from './settlements.ts';
import { registerRightsRoutes } from './rights.ts';

/** Every route file, registered in this order. To add one: write routes/<area>.ts and add it here. */
export const routeFiles: RouteRegistrar[] = [
  registerMetaRoutes,
  registerMerchantRoutes,
  registerPaymentRoutes,
  registerWebhookRoutes,
  registerDeviceRoutes,
  registerFacePayRoutes,
  registerShopperRoutes,
  registerShopperCrmRoutes,
  registerMemberRoutes,
  registerMarketingRoutes,
  registerStaffRoutes,
  registerReportRoutes,
  registerResetRoutes,
  registerOperatorRoutes,
  registerOperatorConsoleRoutes,
  registerCardRoutes,
  registerDisputeRoutes,
  registerSettlementRoutes,
  registerRightsRoutes,
  (app, services) => registerAppRoutes(app, services),
];
