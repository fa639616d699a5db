import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError, ManualClock } from '../platform/index.ts';
import { createLoginThrottle } from './login-throttle.ts';

const wrong = (): Promise<never> => Promise.reject(new DomainError('unauthorized', 'invalid_credentials', 'wrong'));
const right = (): Promise<string> => Promise.resolve('signed in');

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as DomainError).code;
  }
}

test('after the allowed wrong passwords an account is refused, even with the right one, until the window passes', async () => {
  const clock = new ManualClock(new Date('2026-11-25T10:00:00Z'));
  const t = createLoginThrottle(clock, { maxFailures: 3, windowMs: 60_000 });
  for (let i = 0; i < 3; i++) assert.equal(await code(t.guard('Ann@Shop.test', wrong)), 'invalid_credentials');
  assert.equal(await code(t.guard('ann@shop.test', right)), 'too_many_login_attempts', 'the e-mail is matched without case');
  assert.equal(await code(t.guard('bob@shop.test', right)), 'ok', 'other accounts are not affected');
  clock.advance(60_000);
  assert.equal(await code(t.guard('ann@shop.test', right)), 'ok');
});

test('a success wipes the count, and errors that are not wrong passwords do not count', async () => {
  const clock = new ManualClock(new Date('2026-11-25T10:00:00Z'));
  const t = createLoginThrottle(clock, { maxFailures: 2, windowMs: 60_000 });
  assert.equal(await code(t.guard('ann', wrong)), 'invalid_credentials');
  assert.equal(await code(t.guard('ann', right)), 'ok');
  assert.equal(await code(t.guard('ann', wrong)), 'invalid_credentials');
  assert.equal(await code(t.guard('ann', () => Promise.reject(new DomainError('unavailable', 'db_down', 'down')))), 'db_down');
  assert.equal(await code(t.guard('ann', right)), 'ok', 'one wrong password and one outage are below the limit of two');
});
