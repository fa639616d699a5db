/**
 * A bounded fuzz run on both dialects (issue 17): every operation of /openapi.json, the device
 * routes and the app paths get 2000 generated requests over real HTTP; none may answer 5xx or
 * hang, and the ledger audit must be clean afterwards. `npm run fuzz -- --requests N` runs longer.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';
import { fuzzContext, operations, runFuzz, type FuzzContext } from './fuzz.ts';

describeEachDialect('fuzzing the HTTP surface', (dialect) => {
  let p: TestPlatform;
  let ctx: FuzzContext;
  before(async () => {
    p = await testPlatform(dialect);
    ctx = await fuzzContext(p);
  });
  after(async () => {
    await p.dispose();
  });

  // Generous timeouts: npm test runs many files at once on a small machine, and sign-ups and
  // sign-ins each cost a scrypt hash; a hang is a request still unanswered after 30 s.
  test('2000 odd requests: no 5xx, no hang, and the books still balance', { timeout: 240_000 }, async () => {
    const doc = (await (await fetch(`${ctx.baseUrl}/openapi.json`)).json()) as Parameters<typeof operations>[0];
    const ops = operations(doc);
    assert.ok(ops.some((o) => o.path.startsWith('/device/')) && ops.some((o) => o.path === '/console/{rest}'), 'device routes and app paths are fuzzed too');
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
    const r = await runFuzz(ctx, ops, { requests: 2000, seed, timeoutMs: 30_000, concurrency: 4 });
    assert.deepEqual(r.failures, [], `seed ${seed}`);
    assert.equal(Object.values(r.histogram).reduce((a, b) => a + b, 0), 2000);
    assert.ok((r.histogram['200'] ?? 0) > 20, 'some requests get past authentication and validation');
    const audit = await p.services.ledger.verify();
    assert.ok(audit.ok, audit.problems.join('; '));
  });
});
