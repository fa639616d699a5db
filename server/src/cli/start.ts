/** `facepay start`: the whole platform in one process (API, workers, web apps). */
import { ConfigError, describeConfig, loadConfig } from '../config/index.ts';
import { createPlatform, type Platform } from '../composition.ts';
import { seedDemo } from '../demo.ts';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../platform/index.ts';
import { cryptoRandom } from '../platform/index.ts';
import { newPassword } from '../staff/index.ts';

const USAGE = `usage: facepay start
  Opens the database (embedded SQLite under FACEPAY_DATA_DIR, or PostgreSQL with FACEPAY_PG_URL),
  brings its schema up to date, creates a demo merchant on first start, and serves the API and web apps.

environment:
${describeConfig()}
`;

/**
 * On an empty database: a demo merchant with a store, a test key, a terminal waiting for
 * activation and a console owner login, printed once (only hashes of the key, code and password are kept).
 */
async function seed(p: Platform): Promise<string[]> {
  const { merchants, devices, staff } = p.services;
  if ((await merchants.countMerchants()) > 0) return [];
  const m = await merchants.createMerchant({ name: 'Demo Shop' });
  const store = await merchants.createStore(m.id, { name: 'Demo store' });
  const { secret } = await merchants.createApiKey(m.id, { mode: 'test', name: 'demo' });
  const terminal = devices ? await devices.createTerminal({ merchantId: m.id, storeId: store.id, label: 'Demo counter' }) : undefined;
  const kiosk = await merchants.createStore(m.id, { name: 'Demo kiosk' });
  const kioskTerminal = devices ? await devices.createTerminal({ merchantId: m.id, storeId: kiosk.id, label: 'Demo kiosk' }) : undefined;
  const crm =
    terminal && kioskTerminal
      ? await seedDemoFor(p, m.id, [
          { storeId: store.id, terminalId: terminal.terminal.id },
          { storeId: kiosk.id, terminalId: kioskTerminal.terminal.id },
        ])
      : null;
  const ownerPassword = newPassword(cryptoRandom);
  const owner = staff ? await staff.create(m.id, { email: 'owner@demo.facepay.local', name: 'Demo owner', password: ownerPassword, role: 'owner' }) : undefined;
  // Live top-ups wait for real money: the demo's service desk is where a new shopper's wallet is filled.
  const deskPassword = newPassword(cryptoRandom);
  const adminPassword = newPassword(cryptoRandom);
  const desk = p.services.operators ? await p.services.operators.create({ email: 'desk@demo.facepay.local', name: 'Demo service desk', password: deskPassword, role: 'desk' }) : undefined;
  const admin = p.services.operators ? await p.services.operators.create({ email: 'admin@demo.facepay.local', name: 'Demo operator admin', password: adminPassword, role: 'admin' }) : undefined;
  return [
    'First start: created a demo merchant.',
    `  merchant  ${m.id} (Demo Shop)`,
    `  store     ${store.id}`,
    `  API key   ${secret}   <- shown only now; keep it`,
    ...(owner ? [`  console   sign in as ${owner.email} with the password ${ownerPassword}   <- shown only now`] : []),
    ...(desk ? [`  desk      service desk (credits portal top-ups against cash or card): ${desk.email} / ${deskPassword}   <- shown only now`] : []),
    ...(admin ? [`  operator  admin (bank statements, reconciliation): ${admin.email} / ${adminPassword}   <- shown only now`] : []),
    ...(crm ? [`  CRM       ${crm}`] : []),
    ...(terminal
      ? [`  terminal  ${terminal.terminal.id}: open the terminal app and enter the activation code ${terminal.activation.code} (valid 24 h)`]
      : []),
  ];
}

/**
 * The demo merchant's membership programme, a few hundred members with four months of purchases,
 * each a real payment at one of the two terminals, and three campaigns (welcome on joining, a
 * win-back, a scheduled birthday treat): the model is described in members/demo.ts and demo.ts.
 * The same seed gives the same visits and tickets on every fresh database (holdouts, and so the
 * redemptions, follow the random member ids).
 */
async function seedDemoFor(p: Platform, merchantId: string, tills: { storeId: string; terminalId: string }[]): Promise<string | null> {
  const started = performance.now();
  const r = await seedDemo(p, {
    merchantId,
    tills,
    random: seededRandom(20261125),
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
  });
  if (r === null) return null;
  const s = ((performance.now() - started) / 1000).toFixed(1);
  return `demo programme with ${r.memberIds.length} members, ${r.payments} payments (${r.purchases} by members, ${r.byFace} by face), ${r.refunds} refunds and 3 campaigns (seeded in ${s} s)`;
}

/**
 * The first start's lines hold a live secret (the test key, the owner's password, an activation
 * code). On a terminal they are shown; otherwise stdout is usually a log that others read and
 * keep, so they go to `first-start.txt` in the data directory, readable by this user only, and
 * only its path is printed.
 */
export function announceFirstStart(lines: string[], opts: { isTTY: boolean; dataDir: string }): string[] {
  if (lines.length === 0 || opts.isTTY) return lines;
  mkdirSync(opts.dataDir, { recursive: true });
  const file = join(opts.dataDir, 'first-start.txt');
  writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
  // The mode given to writeFileSync only applies to a new file.
  chmodSync(file, 0o600);
  return [`First start: created a demo merchant. Its test API key, console password and activation code are in ${file} (readable by this user only); read it, then delete it.`];
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
  const seeded = announceFirstStart(await seed(platform), { isTTY: process.stdout.isTTY === true, dataDir: config.dataDir });
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
      // The development key sits beside the data it protects: fine on a laptop, no protection anywhere else.
      ...(config.faceEnabled && !process.env.FACEPAY_MASTER_KEY
        ? ['Warning: face templates are encrypted with a development key kept in the data directory. Set FACEPAY_MASTER_KEY (32 bytes, base64) before real shoppers enrol.']
        : []),
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
