/**
 * Kills a real server process with SIGKILL in the middle of a payment load, restarts it on the
 * same database, retries what was in flight, and checks the books: balanced, nothing half-applied,
 * no payment made twice.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../config/index.ts';
import { createPlatform } from '../composition.ts';
import { repoRoot } from '../platform/index.ts';
import { PostgresDb, SqliteDb, type Db } from '../storage/index.ts';
import { describeEachDialect, pgUrl } from '../storage/testing.ts';

interface Server {
  child: ChildProcess;
  base: string;
  apiKey?: string;
  storeId?: string;
}

function startServer(env: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, [join(repoRoot, 'server/bin/facepay.js'), 'start'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', FACEPAY_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    // The first start seeds the demo's months of payments: about 30 s on PostgreSQL on a quiet
    // machine, minutes under load; the bound only catches a server that never starts.
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 300_000);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const api = /API\s+(http:\/\/\S+)\/v1/.exec(out);
      if (!api) return;
      clearTimeout(timer);
      // Not on a terminal, the first start writes its secrets to first-start.txt in the data dir.
      const firstStart = env.FACEPAY_DATA_DIR ? join(env.FACEPAY_DATA_DIR, 'first-start.txt') : undefined;
      const seeded = out + (firstStart && /first-start\.txt/.test(out) && existsSync(firstStart) ? readFileSync(firstStart, 'utf8') : '');
      const key = /API key\s+(sk_test_\S+)/.exec(seeded)?.[1];
      const store = /store\s+(store_\S+)/.exec(seeded)?.[1];
      resolve({ child, base: api[1]!, ...(key ? { apiKey: key } : {}), ...(store ? { storeId: store } : {}) });
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

async function call(base: string, key: string, path: string, body: unknown, idem?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(idem ? { 'idempotency-key': idem } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describeEachDialect('crash during a payment load', (dialect) => {
  const dir = mkdtempSync(join(tmpdir(), 'facepay-crash-'));
  const schema = `crash_${process.pid}_${Date.now().toString(36)}`;
  // An empty FACEPAY_PG_URL keeps the SQLite server off a PostgreSQL configured for the test run.
  // The face engine is off: this test is about money, and loading models would only slow each start.
  // Rate limits off: the load comes from this one address by design.
  const env: Record<string, string> = { FACEPAY_DATA_DIR: dir, FACEPAY_PG_URL: '', FACEPAY_FACE: '0', FACEPAY_RATE_LIMITS: '0' };
  if (dialect === 'postgres') {
    const u = new URL(pgUrl!);
    u.searchParams.set('options', `-c search_path=${schema}`);
    env.FACEPAY_PG_URL = u.toString();
  }
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    if (dialect === 'postgres') {
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  });

  test('after SIGKILL and restart the books balance and every payment is whole or absent', { timeout: 600_000 }, async () => {
    if (dialect === 'postgres') {
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.end();
    }
    const first = await startServer(env);
    children.push(first.child);
    assert.ok(first.apiKey && first.storeId, 'the first start seeds a demo merchant and prints its key');
    const key = first.apiKey;
    const shoppers = Array.from({ length: 20 }, (_, i) => `test_crash_${i}`);
    for (const s of shoppers) {
      assert.equal((await call(first.base, key, '/v1/test_helpers/top_ups', { shopper: s, amount: 50_000, currency: 'usd' })).status, 200);
    }

    // Eight workers pay in a loop; the server dies under them after some payments went through.
    const attempted: { idem: string; body: unknown }[] = [];
    let ok = 0;
    let stop = false;
    const workers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const body = { amount: 100 + ((i * 7 + w) % 50), currency: 'usd', store: first.storeId, confirm: true, shopper: shoppers[(i + w) % shoppers.length] };
        const idem = `crash-${w}-${i}`;
        attempted.push({ idem, body });
        try {
          const r = await call(first.base, key, '/v1/payment_intents', body, idem);
          if (r.status === 200) ok++;
        } catch {
          return; // the connection died with the server
        }
      }
    });
    while (ok < 150) await new Promise((r) => setTimeout(r, 5));
    first.child.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    await exited(first.child);
    assert.equal(first.child.signalCode, 'SIGKILL');

    const second = await startServer(env);
    children.push(second.child);
    assert.equal(second.apiKey, undefined, 'no second demo merchant on restart');
    // Clients retry what they did not see answered: the same keys make each payment at most once.
    for (const a of attempted.slice(-40)) {
      const r = await call(second.base, key, '/v1/payment_intents', a.body, a.idem);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.status, 'succeeded');
    }
    second.child.kill('SIGTERM');
    await exited(second.child);

    let db: Db;
    if (dialect === 'postgres') {
      db = new PostgresDb({ url: pgUrl!, schema });
    } else {
      db = new SqliteDb(join(dir, 'facepay.sqlite'));
    }
    const platform = await createPlatform(loadConfig({ FACEPAY_LOG_LEVEL: 'silent', FACEPAY_FACE: '0', FACEPAY_DATA_DIR: dir }), { db });
    try {
      const audit = await platform.services.payments.audit();
      assert.deepEqual(audit.problems, []);
      assert.ok(audit.succeeded >= 150, `${audit.succeeded} payments succeeded`);
      const keys = await db.query<{ n: number }>(
        'SELECT COUNT(*) AS n FROM payment_intents WHERE idempotency_key IS NOT NULL GROUP BY merchant_id, idempotency_key HAVING COUNT(*) > 1',
      );
      assert.equal(keys.length, 0, 'no idempotency key made two intents');
      // Test shoppers' wallets are their merchant's own: the demo merchant whose key paid.
      const [owner] = await db.query<{ m: string }>("SELECT DISTINCT merchant_id AS m FROM payment_intents WHERE shopper_id LIKE 'test_crash_%'");
      let total = 0;
      for (const s of shoppers) total += await platform.services.payments.testWalletBalance(owner!.m, s, 'usd');
      // The demo's own shoppers paid too, from wallets of their own.
      const [paid] = await db.query<{ s: number }>("SELECT COALESCE(SUM(amount), 0) AS s FROM payment_intents WHERE status = 'succeeded' AND shopper_id LIKE 'test_crash_%'");
      assert.equal(total + Number(paid!.s), shoppers.length * 50_000, 'wallets lost exactly what succeeded payments took');
    } finally {
      await platform.close();
      await db.close();
    }
  });
});
