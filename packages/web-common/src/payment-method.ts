/**
 * How a payment was made, as the API records it (`payment_method`), in words for people. A payment
 * with no recorded method says so: the apps never guess "face".
 */
export type PaymentMethod = 'face' | 'face_digits' | 'face_pin' | 'pay_code';

const LABELS: Record<PaymentMethod, string> = {
  face: 'Face',
  face_digits: 'Face and phone digits',
  face_pin: 'Face and PIN',
  pay_code: 'Pay code',
};

export function paymentMethodLabel(method: string | null | undefined): string {
  if (method === null || method === undefined) return 'Not recorded';
  return LABELS[method as PaymentMethod] ?? method.replace(/_/g, ' ');
}
