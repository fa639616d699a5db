import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatPayCode, payCodeFromQr, payCodeQrText } from './pay-code.ts';

test('a pay code survives the trip through its QR text', () => {
  assert.equal(payCodeQrText('1234 5678 9012'), 'FACEPAY:123456789012');
  assert.equal(payCodeFromQr(payCodeQrText('123456789012')), '123456789012');
  assert.equal(payCodeFromQr(' facepay:1234 5678 9012\n'), '123456789012');
});

test('other QR codes are not taken for a pay code', () => {
  assert.equal(payCodeFromQr('123456789012'), undefined, 'bare digits may be any label');
  assert.equal(payCodeFromQr('https://example.com/FACEPAY:123456789012'), undefined);
  assert.equal(payCodeFromQr('FACEPAY:12345678901'), undefined);
  assert.equal(payCodeFromQr('FACEPAY:1234567890123'), undefined);
  assert.equal(payCodeFromQr('FACEPAY:12345678901x'), undefined);
});

test('the code reads in groups of four', () => {
  assert.equal(formatPayCode('123456789012'), '1234 5678 9012');
});
