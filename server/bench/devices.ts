/**
 * What device-request authentication costs on this machine: two baselines measured in the same
 * run (the signature check alone, and one committed insert into the nonce table), then the whole
 * `authenticate` (headers, clock window, terminal lookup, signature, nonce insert, last-seen), for
 * ES256 and Ed25519, on SQLite and, when FACEPAY_PG_URL is set, on PostgreSQL.
 *
 *   npm run bench:devices [-- --quick] [-- --json]
 */
import { createHash } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { type DeviceAlgorithm, base64urlDecode, canonicalString, exportPublicJwk, generateDeviceKeyPair, signRequest, utf8 } from '@facepay/device-sdk';
import { DeviceRepo, type DeviceRequest, createDevicesService, deviceMigrations, verifyDeviceSignature } from '../src/devices/index.ts';
import { ManualClock, cryptoRandom, randomIds } from '../src/platform/index.ts';
import { freshDb, pgUrl } from '../src/storage/testing.ts';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const json = args.has('--json');
const REQUESTS = quick ? 1500 : 15000;
const TERMINALS = 20;
const CONCURRENCY = 16;

function log(line: string): void {
  // With --json only the last stdout line is the result object; the rest goes to stderr.
  (json ? process.stderr : process.stdout).write(`${line}\n`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

async function bench(dialect: 'sqlite' | 'postgres', algorithm: DeviceAlgorithm): Promise<Record<string, number>> {
  const db = await freshDb(dialect, deviceMigrations);
  try {
    const clock = new ManualClock('2026-11-25T10:00:00Z');
    const service = createDevicesService({ repo: new DeviceRepo(db), clock, ids: randomIds(cryptoRandom), random: cryptoRandom, codeSecret: Buffer.alloc(32, 5), storeBelongsTo: async () => true, config: { maxNoncesPerDevice: Number.MAX_SAFE_INTEGER } });
    const devices: (Awaited<ReturnType<typeof generateDeviceKeyPair>> & { deviceId: string })[] = [];
    for (let i = 0; i < TERMINALS; i++) {
      const { activation } = await service.createTerminal({ merchantId: 'mer_bench', storeId: 'sto_bench' });
      const pair = await generateDeviceKeyPair(algorithm);
      const { terminal } = await service.activate({ code: activation.code, publicKey: await exportPublicJwk(pair) });
      devices.push({ ...pair, deviceId: terminal.id });
    }
    const body = utf8(JSON.stringify({ payment_id: 'pay_bench', amount: 1250, currency: 'EUR', capture: 'x'.repeat(2000) }));
    const now = clock.now().getTime();
    const requests: DeviceRequest[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const d = devices[i % TERMINALS]!;
      const headers = await signRequest(d, { method: 'POST', path: '/device/v1/payments', body, timestamp: now });
      requests.push({ method: 'POST', path: '/device/v1/payments', headers, body });
    }

    // Warm up (JIT, key cache, statement cache) on requests that are not measured.
    for (let i = 0; i < 200; i++) {
      const d = devices[i % TERMINALS]!;
      await service.authenticate({ method: 'GET', path: '/device/v1/me', headers: await signRequest(d, { method: 'GET', path: '/device/v1/me', timestamp: now }), body: new Uint8Array(0) });
    }

    // Baseline: the signature check alone (digest and canonical string included), on the same requests.
    const spkis = new Map(
      (await db.query<{ id: string; public_key_spki: string }>('SELECT id, public_key_spki FROM device_terminals')).map((r) => [r.id, r.public_key_spki]),
    );
    const base: number[] = [];
    for (const r of requests) {
      const t0 = performance.now();
      const h = r.headers as Record<string, string>;
      const c = canonicalString({
        method: r.method,
        path: r.path,
        deviceId: h['facepay-device-id']!,
        timestamp: h['facepay-timestamp']!,
        nonce: h['facepay-nonce']!,
        bodySha256: createHash('sha256').update(r.body).digest('hex'),
      });
      if (!verifyDeviceSignature(algorithm, spkis.get(h['facepay-device-id']!)!, utf8(c), base64urlDecode(h['facepay-signature']!))) {
        throw new Error('a benchmark signature does not verify');
      }
      base.push((performance.now() - t0) * 1000);
    }
    // Medians on both sides: this machine is shared, and a mean would mostly measure preemption.
    const verifyUs = percentile(base.sort((a, b) => a - b), 50);

    // Second baseline: one committed insert into the nonce table, the floor of a durable nonce store.
    const inserts: number[] = [];
    for (let i = 0; i < Math.min(500, REQUESTS); i++) {
      const t0 = performance.now();
      await db.execute('INSERT INTO device_nonces (terminal_id, nonce, expires_at) VALUES ($1, $2, $3)', ['term_baseline', `baseline_${i}`, now]);
      inserts.push((performance.now() - t0) * 1000);
    }
    const insertUs = percentile(inserts.sort((a, b) => a - b), 50);

    const half = Math.floor(REQUESTS / 2);
    const lat: number[] = [];
    for (const r of requests.slice(0, half)) {
      const s = performance.now();
      await service.authenticate(r);
      lat.push((performance.now() - s) * 1000);
    }
    lat.sort((a, b) => a - b);

    const rest = requests.slice(half);
    const s = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < rest.length) await service.authenticate(rest[next++]!);
      }),
    );
    const perS = rest.length / ((performance.now() - s) / 1000);
    return { verify_only_p50_us: round(verifyUs), nonce_insert_only_p50_us: round(insertUs), authenticate_p50_us: round(percentile(lat, 50)), authenticate_p95_us: round(percentile(lat, 95)), authenticate_per_s: Math.round(perS) };
  } finally {
    await db.dispose();
  }
}

const cpu = cpus();
log(`machine: ${cpu[0]?.model ?? 'unknown cpu'}, ${cpu.length} cores, ${round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
log(`${REQUESTS} signed requests of a 2 kB body over ${TERMINALS} terminals; sequential latency on half, ${CONCURRENCY} in flight on the other half`);
const result: Record<string, number | string> = { requests: REQUESTS };
for (const dialect of pgUrl ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)) {
  for (const algorithm of ['ES256', 'Ed25519'] as const) {
    const r = await bench(dialect, algorithm);
    const tag = `${dialect}_${algorithm.toLowerCase()}`;
    for (const [k, v] of Object.entries(r)) result[`${tag}_${k}`] = v;
    log(
      `${dialect.padEnd(8)} ${algorithm.padEnd(7)} verify only p50 ${r.verify_only_p50_us} µs, nonce insert only p50 ${r.nonce_insert_only_p50_us} µs | authenticate p50 ${r.authenticate_p50_us} µs, p95 ${r.authenticate_p95_us} µs | ${r.authenticate_per_s} req/s`,
    );
  }
}
if (!pgUrl) log('PostgreSQL skipped: set FACEPAY_PG_URL to measure it too');
if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
