#!/usr/bin/env node
// Runs every *.test.ts beside the code (server, packages, apps) with Node's test runner through tsx,
// after a type check. Node 20's --test does not expand globs, so the files are found here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const roots = ['server', 'packages', 'apps'].map((d) => join(root, d));
const only = process.argv.slice(2);

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
}

const files = [];
for (const r of roots) walk(r, files);
const selected = only.length ? files.filter((f) => only.some((o) => relative(root, f).includes(o))) : files;
selected.sort();

if (!process.env.FACEPAY_PG_URL) {
  console.log('# FACEPAY_PG_URL is not set: the PostgreSQL suites will be skipped (set it to run them).');
}

if (!only.length) {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  for (const project of ['tsconfig.json', 'apps/tsconfig.json']) {
    const r = spawnSync(process.execPath, [tsc, '-p', join(root, project)], { stdio: 'inherit' });
    if (r.status !== 0) {
      console.error(`type check of ${project} failed`);
      process.exit(r.status ?? 1);
    }
  }
  // Browser tests load the built apps.
  const { buildApps } = await import('./build-apps.mjs');
  await buildApps({ quiet: true });
}

// Browser tests drive Chromium, whose on-device face detection and the server's face engine both
// want every core: two at once on a 2-core machine starve each other's captures past their
// timeouts, so they run one at a time after the rest.
const browserFiles = selected.filter((f) => f.endsWith('.browser.test.ts'));
const otherFiles = selected.filter((f) => !f.endsWith('.browser.test.ts'));
const env = { ...process.env, FACEPAY_LOG_LEVEL: process.env.FACEPAY_LOG_LEVEL ?? 'silent' };
let status = 0;
for (const [files, concurrency] of [
  [otherFiles, 2],
  [browserFiles, 1],
]) {
  if (files.length === 0) continue;
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], {
    stdio: 'inherit',
    cwd: root,
    env,
  });
  if (res.status !== 0) status = res.status ?? 1;
}
process.exit(status);
