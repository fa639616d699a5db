/**
 * payment-views: a merchant's payments as its console and exports show them, with the terminal's
 * name, the member id and the coupon's campaign, which the payments module does not know; and the
 * payments as CSV, read page by page. It owns no table and writes no SQL: each part comes from the
 * service that owns it (devices, members, marketing, merchants), wired in the composition root.
 *
 * HTTP surface: the payment intent list and retrieval add `terminal_name`, `member` and
 * `coupon_campaign`; GET /v1/payment_intents/export.csv (scope payments:export), in
 * http/routes/payments.ts.
 */
export { createPaymentViews, EXPORT_PAGE, PAYMENT_CSV_COLUMNS, type ExportQuery, type PaymentView, type PaymentViews, type PaymentViewsDeps } from './views.ts';
