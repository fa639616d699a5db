import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMoney, parseMoney, plainAmount } from './money.ts';

test('typed amounts become whole minor units, never floats', () => {
  assert.equal(parseMoney('12.5', 'EUR'), 1250);
  assert.equal(parseMoney('12,05', 'EUR'), 1205);
  assert.equal(parseMoney('0.10', 'EUR'), 10);
  assert.equal(parseMoney('1000', 'JPY'), 1000);
  assert.equal(parseMoney('10.5', 'JPY'), undefined);
  assert.equal(parseMoney('1.234', 'EUR'), undefined);
  assert.equal(parseMoney('-3', 'EUR'), undefined);
  assert.equal(parseMoney('0', 'EUR'), undefined);
  assert.equal(parseMoney('abc', 'EUR'), undefined);
});

test('amounts show in the currency’s decimals', () => {
  assert.equal(formatMoney(1205, 'EUR'), '€12.05');
  assert.equal(formatMoney(5, 'GBP'), '£0.05');
  assert.equal(formatMoney(1000, 'JPY'), 'JP¥1,000');
});

test('an amount goes back into an input as plain decimals', () => {
  assert.equal(plainAmount(1250, 'EUR'), '12.50');
  assert.equal(plainAmount(5, 'EUR'), '0.05');
  assert.equal(plainAmount(1000, 'JPY'), '1000');
  assert.equal(parseMoney(plainAmount(123456, 'EUR'), 'EUR'), 123456);
});
