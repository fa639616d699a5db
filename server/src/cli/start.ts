/** `facepay start`: the whole platform in one process (API, workers, web apps). */
import { ConfigError, describeConfig, loadConfig } from '../config/index.ts';
import { createPlatform, type Platform } from '../composition.ts';
import { seedDemo } from '../demo.ts';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRedirectServer, describeCertificate, originOf, pemToDer, reachableHosts } from '../ops/index.ts';
import { isDomainError } from '../platform/index.ts';
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
  let platform: Platform;
  try {
    platform = await createPlatform(config);
  } catch (e) {
    if (e instanceof ConfigError || (isDomainError(e) && e.code === 'master_key_missing')) {
      process.stderr.write(`facepay: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const seeded = announceFirstStart(await seed(platform), { isTTY: process.stdout.isTTY === true, dataDir: config.dataDir });
  const served = await serve(platform);
  platform.startWorkers();
  const where = config.pgUrl ? 'PostgreSQL' : `SQLite in ${config.dataDir}`;
  const [base = served.origins[0]!, ...others] = config.publicUrl ? [config.publicUrl, ...served.origins] : served.origins;
  process.stdout.write(
    [
      ...seeded,
      `Facepay is running (${where}${config.tls ? ', HTTPS' : ''}).`,
      `  terminal  ${base}/terminal/`,
      `  console   ${base}/console/`,
      `  portal    ${base}/portal/`,
      `  API       ${base}/v1   reference ${base}/docs   OpenAPI ${base}/openapi.json`,
      ...(others.length > 0 ? [`  also at   ${others.join('   ')}`] : []),
      ...(config.faceEnabled
        ? [`  gallery   this process serves partitions: ${config.galleryPartitions?.join(', ') ?? 'all'}   (state at ${base}/health/ready)`]
        : []),
      ...served.notes,
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
  await served.close();
  await platform.close();
  return 0;
}

export interface Served {
  /** Every origin people can open (each reachable address, with the right scheme), the best first. */
  origins: string[];
  /** The plain-HTTP redirect listener's port, when there is one. */
  redirectPort: number | undefined;
  /** Warnings for the banner (addresses the certificate does not cover, ...). */
  notes: string[];
  close(): Promise<void>;
}

/**
 * Listens on the configured host and port (HTTPS when a certificate is configured) and, with
 * HTTPS and FACEPAY_HTTP_PORT, a plain-HTTP listener that redirects to it.
 */
export async function serve(platform: Platform): Promise<Served> {
  const { config } = platform;
  await platform.app.listen({ port: config.port, host: config.host });
  const port = (platform.app.server.address() as AddressInfo).port;
  const scheme = config.tls ? 'https' : 'http';
  const notes: string[] = [];
  let hosts = reachableHosts(config.host);
  let redirect: Server | undefined;
  let redirectPort: number | undefined;
  if (config.tls) {
    const cert = describeCertificate(readFileSync(config.tls.certFile));
    // A tablet can only open what the certificate names: those first, then the rest with a warning.
    const covered = (h: string): boolean => cert.dnsNames.includes(h.toLowerCase()) || cert.ips.includes(h);
    const uncovered = hosts.filter((h) => !covered(h));
    hosts = [...cert.dnsNames.filter((n) => !n.startsWith('*.')), ...hosts.filter(covered).filter((h) => !cert.dnsNames.includes(h))];
    if (uncovered.length > 0) notes.push(`  note      the certificate does not name ${uncovered.join(', ')}: browsers will refuse those addresses (facepay tls init --host ... --ip ... makes one that does)`);
    const days = Math.floor((cert.validTo.getTime() - platform.clock.now().getTime()) / 86_400_000);
    if (days < 30) notes.push(`Warning: the TLS certificate expires in ${days} days (${cert.validTo.toISOString().slice(0, 10)}).`);
    if (config.httpRedirectPort !== undefined) {
      const files: Record<string, { type: string; body: Buffer }> = {};
      try {
        const ca = readFileSync(config.tls.caFile);
        files['/ca.pem'] = { type: 'application/x-pem-file', body: ca };
        files['/ca.crt'] = { type: 'application/x-x509-ca-cert', body: pemToDer(ca) };
      } catch {
        // No local CA beside the certificate: nothing to offer over plain HTTP.
      }
      redirect = createRedirectServer({ httpsPort: port, fallbackHost: hosts[0] ?? 'localhost', files });
      const r = redirect;
      await new Promise<void>((resolve, reject) => {
        r.once('error', reject);
        r.listen(config.httpRedirectPort, config.host, () => resolve());
      });
      redirectPort = (r.address() as AddressInfo).port;
      notes.push(`  http      port ${redirectPort} redirects to HTTPS; the CA certificate is at ${originOf('http', hosts[0] ?? 'localhost', redirectPort)}/ca.crt`);
    }
  }
  if (!config.tls && hosts.some((h) => h !== 'localhost' && h !== '127.0.0.1' && h !== '::1')) {
    notes.push('  note      browsers give the camera and WebCrypto only to https:// pages (or localhost): for tablets, see `npx facepay tls init --help`');
  }
  const origins = hosts.map((h) => originOf(scheme, h, port));
  return {
    origins: origins.length > 0 ? origins : [originOf(scheme, 'localhost', port)],
    redirectPort,
    notes,
    async close() {
      if (redirect) await new Promise<void>((resolve) => redirect.close(() => resolve()));
    },
  };
}
