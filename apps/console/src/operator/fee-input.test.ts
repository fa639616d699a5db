import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dayProblem, parseRate, rateText } from './fee-input.ts';

test('a typed percentage becomes whole basis points, refused outside 0 to 100 or past two decimals', () => {
  assert.equal(parseRate('2.5'), 250);
  assert.equal(parseRate('2,75 %'), 275);
  assert.equal(parseRate('0'), 0);
  assert.equal(parseRate('100'), 10_000);
  assert.equal(parseRate('0.01'), 1);
  assert.equal(parseRate('100.01'), undefined);
  assert.equal(parseRate('1.234'), undefined);
  assert.equal(parseRate('-1'), undefined);
  assert.equal(parseRate(''), undefined);
  assert.equal(parseRate('abc'), undefined);
});

test('basis points read as a percentage', () => {
  assert.equal(rateText(250), '2.5%');
  assert.equal(rateText(1), '0.01%');
  assert.equal(rateText(10_000), '100%');
});

test('the first day is a real date after today and at most two years ahead', () => {
  const now = new Date(2026, 11, 8, 10, 0);
  assert.equal(dayProblem('2026-12-09', now), undefined);
  assert.equal(dayProblem('2026-12-08', now), 'effective_from_not_future');
  assert.equal(dayProblem('2026-11-30', now), 'effective_from_not_future');
  assert.equal(dayProblem('2026-02-30', now), 'effective_from_invalid');
  assert.equal(dayProblem('9.12.2026', now), 'effective_from_invalid');
  assert.equal(dayProblem('2028-12-01', now), undefined);
  assert.equal(dayProblem('2029-01-01', now), 'effective_from_too_far');
});
