import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newClientId, retryUntilFinal } from './retry.ts';

const noSleep = async (): Promise<void> => undefined;

test('a final answer is returned at once, a 4xx included', async () => {
  let calls = 0;
  const res = await retryUntilFinal(async () => {
    calls++;
    return new Response('no', { status: 402 });
  }, { sleep: noSleep });
  assert.equal(res.status, 402);
  assert.equal(calls, 1);
});

test('errors and retryable statuses are retried with growing, capped, jittered pauses', async () => {
  const pauses: number[] = [];
  let calls = 0;
  const res = await retryUntilFinal(
    async () => {
      calls++;
      if (calls <= 3) throw new TypeError('fetch failed');
      if (calls <= 6) return new Response('', { status: calls === 6 ? 429 : 502 });
      return new Response('ok');
    },
    { sleep: async (ms) => void pauses.push(ms), random: () => 0.999, baseDelayMs: 100, maxDelayMs: 1000 },
  );
  assert.equal(res.status, 200);
  assert.equal(calls, 7);
  assert.deepEqual(pauses, [99, 199, 399, 799, 999, 999]);
});

test('Retry-After is honoured', async () => {
  const pauses: number[] = [];
  let calls = 0;
  await retryUntilFinal(
    async () => (++calls === 1 ? new Response('', { status: 503, headers: { 'retry-after': '2' } }) : new Response('ok')),
    { sleep: async (ms) => void pauses.push(ms) },
  );
  assert.deepEqual(pauses, [2000]);
});

test('maxAttempts ends with the last answer or error', async () => {
  const last = await retryUntilFinal(async () => new Response('', { status: 500 }), { maxAttempts: 3, sleep: noSleep });
  assert.equal(last.status, 500);
  await assert.rejects(
    retryUntilFinal(async () => {
      throw new TypeError('offline');
    }, { maxAttempts: 2, sleep: noSleep }),
    /offline/,
  );
});

test('an abort stops the retries', async () => {
  const ctl = new AbortController();
  let calls = 0;
  await assert.rejects(
    retryUntilFinal(
      async () => {
        if (++calls === 2) ctl.abort(new Error('cashier cancelled'));
        throw new TypeError('offline');
      },
      { signal: ctl.signal, baseDelayMs: 1 },
    ),
    /cashier cancelled/,
  );
  assert.equal(calls, 2);
});

test('client ids carry their prefix and 128 random bits', () => {
  const id = newClientId('pay');
  assert.match(id, /^pay_[A-Za-z0-9_-]{22}$/);
  assert.notEqual(newClientId('pay'), id);
});

test("the error body's retryable flag decides: a 503 face_engine_off is final, a 503 without the flag is retried", async () => {
  const errorBody = (code: string, retryable?: boolean) =>
    new Response(JSON.stringify({ error: { code, message: 'x', request_id: 'req_1', ...(retryable !== undefined ? { retryable } : {}) } }), {
      status: 503,
      headers: { 'content-type': 'application/json' },
    });
  let calls = 0;
  const off = await retryUntilFinal(async () => {
    calls++;
    return errorBody('face_engine_off', false);
  }, { sleep: noSleep });
  assert.equal(off.status, 503);
  assert.equal(calls, 1, 'a switched-off engine is not retried');
  assert.equal(((await off.json()) as { error: { code: string } }).error.code, 'face_engine_off', 'the body is still readable');

  calls = 0;
  const busy = await retryUntilFinal(async () => (++calls < 3 ? errorBody('gallery_not_started', true) : new Response('ok')), { sleep: noSleep });
  assert.equal(busy.status, 200);
  assert.equal(calls, 3);

  calls = 0;
  await retryUntilFinal(async () => (++calls < 2 ? new Response('<html>bad gateway</html>', { status: 502 }) : new Response('ok')), { sleep: noSleep });
  assert.equal(calls, 2, 'an answer without a Facepay body falls back to the status');
});
