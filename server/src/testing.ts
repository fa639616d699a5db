/**
 * A whole platform on a fresh database for tests: one merchant with a store and a test API key.
 * Lives beside the composition root because it builds everything the same way.
 */
import { loadConfig, type Config } from './config/index.ts';
import { allMigrations, createPlatform, type Platform, type PlatformOverrides } from './composition.ts';
import { freshDb } from './storage/testing.ts';

export interface TestPlatform extends Platform {
  merchantId: string;
  storeId: string;
  apiKey: string;
  /** Headers for the test merchant's API key (test mode: test intents, test shoppers only). */
  auth: Record<string, string>;
  /** Headers for a live API key of the same merchant: what terminals and real shoppers pay. */
  liveAuth: Record<string, string>;
  dispose(): Promise<void>;
}

export async function testPlatform(
  dialect: 'sqlite' | 'postgres',
  opts: { env?: Record<string, string>; overrides?: PlatformOverrides; file?: string; maxConnections?: number } = {},
): Promise<TestPlatform> {
  const config: Config = loadConfig({ FACEPAY_LOG_LEVEL: 'silent', FACEPAY_WEBHOOK_ALLOW_HTTP: '1', FACEPAY_WEBHOOK_ALLOW_PRIVATE: '1', FACEPAY_FACE: '0', FACEPAY_RATE_LIMITS: '0', ...opts.env });
  const db = await freshDb(dialect, allMigrations, {
    ...(opts.file ? { file: opts.file } : {}),
    ...(opts.maxConnections ? { maxConnections: opts.maxConnections } : {}),
  });
  const platform = await createPlatform(config, { ...opts.overrides, db });
  const m = await platform.services.merchants.createMerchant({ name: 'Test Shop' });
  const store = await platform.services.merchants.createStore(m.id, { name: 'Main street' });
  const { secret } = await platform.services.merchants.createApiKey(m.id, { mode: 'test' });
  const live = await platform.services.merchants.createApiKey(m.id, { mode: 'live' });
  return Object.assign(platform, {
    merchantId: m.id,
    storeId: store.id,
    apiKey: secret,
    auth: { authorization: `Bearer ${secret}` },
    liveAuth: { authorization: `Bearer ${live.secret}` },
    async dispose() {
      await platform.close();
      await db.dispose();
    },
  });
}
