import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionMonitor } from './connection.ts';

/** A ping that answers from a script, and a sleep that returns at once but records the pause. */
function scripted(answers: boolean[]) {
  const pauses: number[] = [];
  let pings = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  const monitor = new ConnectionMonitor({
    ping: async () => {
      const ok = answers[pings++];
      if (pings >= answers.length) done();
      if (!ok) throw new TypeError('Failed to fetch');
    },
    onlineIntervalMs: 5000,
    offlineIntervalMs: 1500,
    sleep: async (ms) => {
      pauses.push(ms);
      if (pings >= answers.length) await new Promise(() => undefined);
    },
  });
  return { monitor, pauses, finished };
}

test('two failed pings in a row say offline; the next answer clears it; pings come faster while offline', async () => {
  const { monitor, pauses, finished } = scripted([true, false, false, false, true, true]);
  const changes: boolean[] = [];
  monitor.subscribe((online) => changes.push(online));
  monitor.start();
  await finished;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(changes, [false, true]);
  assert.equal(monitor.isOnline, true);
  assert.deepEqual(pauses.slice(0, 5), [5000, 5000, 1500, 1500, 5000]);
  monitor.dispose();
});

test("a call's network failure counts, and its answer, even a refusal, shows the platform is reachable", async () => {
  const monitor = new ConnectionMonitor({ ping: async () => undefined, failuresToOffline: 1 });
  const refusal = new Error('pay_code_invalid');
  const isAnswer = (e: unknown) => e === refusal;
  await assert.rejects(monitor.observe(Promise.reject(new TypeError('Failed to fetch')), isAnswer));
  assert.equal(monitor.isOnline, false);
  await assert.rejects(monitor.observe(Promise.reject(refusal), isAnswer));
  assert.equal(monitor.isOnline, true);
  assert.equal(await monitor.observe(Promise.resolve(7), isAnswer), 7);
});
