import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { repoRoot } from '../platform/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'facepay-cli-settle-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const settle = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(repoRoot, 'server/bin/facepay.js'), 'settle', ...args], {
    env: { ...process.env, FACEPAY_DATA_DIR: dir, FACEPAY_PG_URL: '', FACEPAY_LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
  });

test('facepay settle: audit, close, and payout runs refused with a stable code', () => {
  const audit = settle(['audit']);
  assert.equal(audit.status, 0, audit.stderr);
  assert.equal((JSON.parse(audit.stdout) as { ok: boolean }).ok, true);
  assert.equal(settle(['close']).status, 0);
  const noDebtor = settle(['payout-run']);
  assert.equal(noDebtor.status, 1);
  assert.match(noDebtor.stderr, /payout_debtor_missing/);
  const nothing = settle(['payout-run', '--key', 'cli-test-run-1'], { FACEPAY_PAYOUT_DEBTOR_IBAN: 'DE89370400440532013000' });
  assert.equal(nothing.status, 1);
  assert.match(nothing.stderr, /payout_nothing_to_pay/);
  assert.equal(settle(['approve']).status, 2);
  assert.equal(settle(['--help']).status, 0);
});
