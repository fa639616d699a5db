import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { announceFirstStart } from './start.ts';

const lines = ['First start: created a demo merchant.', '  API key   sk_test_secret   <- shown only now; keep it', '  console   sign in as o@x with the password hunter2'];

test('without a terminal the first start keeps its secrets out of stdout, in a file only this user reads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fp-first-'));
  const out = announceFirstStart(lines, { isTTY: false, dataDir: dir }).join('\n');
  assert.doesNotMatch(out, /sk_test_secret|hunter2/);
  const file = join(dir, 'first-start.txt');
  assert.match(out, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  assert.match(readFileSync(file, 'utf8'), /sk_test_secret[\s\S]*hunter2/);
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('on a terminal they are shown, and nothing is written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fp-first-'));
  assert.deepEqual(announceFirstStart(lines, { isTTY: true, dataDir: dir }), lines);
  assert.throws(() => statSync(join(dir, 'first-start.txt')));
  assert.deepEqual(announceFirstStart([], { isTTY: false, dataDir: dir }), [], 'later starts print nothing');
});
