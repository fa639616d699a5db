import type { RouteRegistrar } from '../types.ts';
import { registerAppRoutes } from './apps.ts';
import { registerDeviceRoutes } from './devices.ts';
import { registerFacePayRoutes } from './facepay.ts';
import { registerMerchantRoutes } from './merchants.ts';
import { registerMetaRoutes } from './meta.ts';
import { registerPaymentRoutes } from './payments.ts';
import { registerShopperRoutes } from './shoppers.ts';
import { registerWebhookRoutes } from './webhooks.ts';

/** Every route file, registered in this order. To add one: write routes/<area>.ts and add it here. */
export const routeFiles: RouteRegistrar[] = [
  registerMetaRoutes,
  registerMerchantRoutes,
  registerPaymentRoutes,
  registerWebhookRoutes,
  registerDeviceRoutes,
  registerFacePayRoutes,
  registerShopperRoutes,
  (app, services) => registerAppRoutes(app, services),
];
