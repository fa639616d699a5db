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

test('after the allowed wrong passwords from one address, that address is refused, even with the right one, until the window passes', async () => {
  const clock = new ManualClock(new Date('2026-11-25T10:00:00Z'));
  const t = createLoginThrottle(clock, { maxFailures: 3, windowMs: 60_000 });
  for (let i = 0; i < 3; i++) assert.equal(await code(t.guard('Ann@Shop.test', '10.0.0.9', wrong)), 'invalid_credentials');
  assert.equal(await code(t.guard('ann@shop.test', '10.0.0.9', right)), 'too_many_login_attempts', 'the e-mail is matched without case');
  assert.equal(await code(t.guard('bob@shop.test', '10.0.0.9', right)), 'ok', 'other accounts are not affected');
  clock.advance(60_000);
  assert.equal(await code(t.guard('ann@shop.test', '10.0.0.9', right)), 'ok');
});

test("ten wrong passwords from a stranger do not lock the owner out from the owner's address", async () => {
  const clock = new ManualClock(new Date('2026-11-25T10:00:00Z'));
  const t = createLoginThrottle(clock);
  for (let i = 0; i < 10; i++) assert.equal(await code(t.guard('ann@shop.test', '203.0.113.5', wrong)), 'invalid_credentials');
  assert.equal(await code(t.guard('ann@shop.test', '203.0.113.5', wrong)), 'too_many_login_attempts');
  assert.equal(await code(t.guard('ann@shop.test', '198.51.100.7', right)), 'ok', 'the owner signs in from home');
});

test('guesses spread over many addresses meet a doubling delay, which the owner waits out rather than being locked out', async () => {
  const clock = new ManualClock(new Date('2026-11-25T10:00:00Z'));
  const t = createLoginThrottle(clock, { backoffAfter: 5, baseBackoffMs: 1000, maxBackoffMs: 8000 });
  for (let i = 0; i < 5; i++) assert.equal(await code(t.guard('ann', `10.0.1.${i}`, wrong)), 'invalid_credentials');
  assert.equal(await code(t.guard('ann', '10.0.2.1', wrong)), 'too_many_login_attempts', 'the next try comes too soon');
  clock.advance(1000);
  assert.equal(await code(t.guard('ann', '10.0.2.1', wrong)), 'invalid_credentials');
  clock.advance(1000);
  assert.equal(await code(t.guard('ann', '10.0.2.2', wrong)), 'too_many_login_attempts', 'the delay doubled to 2 s');
  clock.advance(60_000);
  assert.equal(await code(t.guard('ann', '192.0.2.1', right)), 'ok');
  assert.equal(await code(t.guard('ann', '10.0.2.3', wrong)), 'invalid_credentials', 'the success cleared the count');
});

test('a success wipes the count, and errors that are not wrong passwords do not count', async () => {
  const clock = new ManualClock(new Date('2026-11-25T10:00:00Z'));
  const t = createLoginThrottle(clock, { maxFailures: 2, windowMs: 60_000 });
  assert.equal(await code(t.guard('ann', 'a', wrong)), 'invalid_credentials');
  assert.equal(await code(t.guard('ann', 'a', right)), 'ok');
  assert.equal(await code(t.guard('ann', 'a', wrong)), 'invalid_credentials');
  assert.equal(await code(t.guard('ann', 'a', () => Promise.reject(new DomainError('unavailable', 'db_down', 'down')))), 'db_down');
  assert.equal(await code(t.guard('ann', 'a', right)), 'ok', 'one wrong password and one outage are below the limit of two');
});
