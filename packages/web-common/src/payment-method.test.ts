import assert from 'node:assert/strict';
import { test } from 'node:test';
import { paymentMethodLabel } from './payment-method.ts';

test('each recorded method has its words, and a missing one is never called a face', () => {
  assert.equal(paymentMethodLabel('face'), 'Face');
  assert.equal(paymentMethodLabel('face_digits'), 'Face and phone digits');
  assert.equal(paymentMethodLabel('face_pin'), 'Face and PIN');
  assert.equal(paymentMethodLabel('pay_code'), 'Pay code');
  assert.equal(paymentMethodLabel(null), 'Not recorded');
  assert.equal(paymentMethodLabel(undefined), 'Not recorded');
  assert.equal(paymentMethodLabel('bank_card'), 'bank card');
});
