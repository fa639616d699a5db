/** `facepay start`: the whole platform in one process (API, workers, web apps). */
import { ConfigError, describeConfig, loadConfig } from '../config/index.ts';
import { createPlatform, type Platform } from '../composition.ts';

const USAGE = `usage: facepay start
  Opens the database (embedded SQLite under FACEPAY_DATA_DIR, or PostgreSQL with FACEPAY_PG_URL),
  brings its schema up to date, creates a demo merchant on first start, and serves the API and web apps.

environment:
${describeConfig()}
`;

/**
 * On an empty database: a demo merchant with a store, a test key and a terminal waiting for
 * activation, printed once (only hashes of the key and the code are kept).
 */
async function seed(p: Platform): Promise<string[]> {
  const { merchants, devices } = p.services;
  if ((await merchants.countMerchants()) > 0) return [];
  const m = await merchants.createMerchant({ name: 'Demo Shop' });
  const store = await merchants.createStore(m.id, { name: 'Demo store' });
  const { secret } = await merchants.createApiKey(m.id, { mode: 'test', name: 'demo' });
  const terminal = devices ? await devices.createTerminal({ merchantId: m.id, storeId: store.id, label: 'Demo counter' }) : undefined;
  return [
    'First start: created a demo merchant.',
    `  merchant  ${m.id} (Demo Shop)`,
    `  store     ${store.id}`,
    `  API key   ${secret}   <- shown only now; keep it`,
    ...(terminal
      ? [`  terminal  ${terminal.terminal.id}: open the terminal app and enter the activation code ${terminal.activation.code} (valid 24 h)`]
      : []),
  ];
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`facepay: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const platform = await createPlatform(config);
  const seeded = await seed(platform);
  const address = await platform.app.listen({ port: config.port, host: config.host });
  const base = config.publicUrl ?? (config.host === '0.0.0.0' || config.host === '::' ? address.replace(/\/\/[^:/]+/, '//localhost') : address);
  platform.startWorkers();
  const where = config.pgUrl ? 'PostgreSQL' : `SQLite in ${config.dataDir}`;
  process.stdout.write(
    [
      ...seeded,
      `Facepay is running (${where}).`,
      `  terminal  ${base}/terminal/`,
      `  console   ${base}/console/`,
      `  portal    ${base}/portal/`,
      `  API       ${base}/v1   reference ${base}/docs   OpenAPI ${base}/openapi.json`,
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await platform.close();
  return 0;
}
