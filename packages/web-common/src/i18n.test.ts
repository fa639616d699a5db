import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalogueProblems, hardCodedStrings } from './catalogue-check.ts';
import { I18n, mergeCatalogues, pickLocale } from './i18n.ts';
import { describeError, methodText, sharedMessages } from './localize.ts';

const at = Date.UTC(2026, 11, 7, 16, 5);
const en = new I18n(sharedMessages, 'en', 'UTC');
const zh = new I18n(sharedMessages, 'zh-CN', 'UTC');

test('the language comes from the remembered choice, else the browser, else English', () => {
  assert.equal(pickLocale(['zh-CN', 'en']), 'zh-CN');
  assert.equal(pickLocale(['zh']), 'zh-CN');
  assert.equal(pickLocale(['zh-Hans-CN']), 'zh-CN');
  assert.equal(pickLocale(['zh-TW', 'en-US']), 'en', 'Traditional Chinese readers get English rather than Simplified');
  assert.equal(pickLocale(['fr-FR', 'en-GB']), 'en');
  assert.equal(pickLocale(['fr-FR']), 'en');
  assert.equal(pickLocale([]), 'en');
  assert.equal(pickLocale(['zh-CN'], 'en'), 'en', 'the switch wins over the browser');
  assert.equal(pickLocale(['en-US'], 'zh-CN'), 'zh-CN');
  assert.equal(pickLocale(['en-US'], 'klingon'), 'en', 'a stored value we do not know is ignored');
});

test('CNY is shown as ¥ with two decimals in both languages; other currencies keep their own decimals', () => {
  assert.equal(zh.money(1250, 'CNY'), '¥12.50');
  assert.equal(en.money(1250, 'CNY'), '¥12.50');
  assert.equal(en.money(123456, 'cny'), '¥1,234.56');
  assert.equal(en.money(1205, 'EUR'), '€12.05');
  assert.equal(zh.money(1205, 'EUR'), '€12.05');
  assert.equal(en.money(1000, 'JPY'), '¥1,000');
  assert.equal(en.money(5, 'KWD'), 'KWD 0.005'.replace('KWD ', 'KWD\u00a0'), 'three-decimal currencies divide by 1000');
});

test('each language has one date, time and date-and-time format', () => {
  assert.equal(en.dateTime(at), '7 Dec 2026, 16:05');
  assert.equal(en.date(at), '7 Dec 2026');
  assert.equal(en.time(at), '16:05');
  assert.equal(zh.dateTime(at), '2026年12月7日 16:05');
  assert.equal(zh.date(at), '2026年12月7日');
  assert.equal(zh.time(at), '16:05');
});

test('messages fill placeholders and plurals in the current language, and the switch tells its listeners', () => {
  const i = new I18n(mergeCatalogues(sharedMessages, { en: { 'x.tries': '{n, plural, one {# try} other {# tries}} left' }, 'zh-CN': { 'x.tries': '还剩 {n} 次' } }), 'en');
  assert.equal(i.t('x.tries', { n: 1 }), '1 try left');
  assert.equal(i.t('x.tries', { n: 3 }), '3 tries left');
  const heard: string[] = [];
  i.subscribe((l) => heard.push(l));
  i.setLocale('zh-CN');
  assert.equal(i.t('x.tries', { n: 3 }), '还剩 3 次');
  assert.deepEqual(heard, ['zh-CN']);
  assert.equal(i.lookup('x.nothing'), undefined);
  assert.throws(() => mergeCatalogues(sharedMessages, { en: { 'method.face': 'x' }, 'zh-CN': { 'method.face': 'x' } }), /defined twice/);
});

test('server errors are shown from their code in the reader’s language, never as the server’s English text', () => {
  assert.equal(describeError(zh, { code: 'insufficient_funds', status: 402 }), '钱包余额不足。');
  assert.equal(describeError(en, { code: 'insufficient_funds', status: 402 }), 'There is not enough money in the wallet.');
  assert.equal(describeError(zh, { code: 'refund_above_staff_limit', status: 403, details: { limit: 2000 } }, 'CNY'), '您的单笔退款限额为 ¥20.00，请让经理办理这笔退款。');
  assert.equal(describeError(en, { code: 'refund_above_staff_limit', status: 403, details: { limit: 2000 } }, 'EUR'), 'Your refund limit is €20.00 per payment. Ask a manager for this refund.');
  assert.equal(describeError(zh, { code: 'some_new_code', status: 400 }), '请求未被接受（some_new_code）。');
  assert.equal(describeError(zh, { code: 'some_new_code', status: 503 }), '我们这边出了点问题，请稍后重试。');
  assert.equal(describeError(zh, undefined), '出了点问题，请重试。');
  assert.equal(describeError(en, { code: 'some_new_code', status: 409, message: 'Spend or withdraw the wallet first.' }), 'Spend or withdraw the wallet first.');
  assert.equal(describeError(zh, { code: 'some_new_code', status: 409, message: 'Spend or withdraw the wallet first.' }), '请求未被接受（some_new_code）。');
});

test('payment methods in words, and a missing one is never called a face', () => {
  assert.equal(methodText(zh, 'pay_code'), '付款码');
  assert.equal(methodText(en, 'face_pin'), 'Face and PIN');
  assert.equal(methodText(zh, null), '未记录');
  assert.equal(methodText(en, 'bank_card'), 'bank card');
});

test('the shared catalogues are complete in both languages and valid ICU', () => {
  assert.deepEqual(catalogueProblems(sharedMessages), []);
});

test('the catalogue check catches a missing key, a broken message, different placeholders and an untranslated text', () => {
  const problems = catalogueProblems({
    en: { a: 'One', b: 'Hello {name}', c: '{n, plural, one {#} other {#}', d: 'Not translated yet' },
    'zh-CN': { b: '你好 {who}', c: '{n}', d: 'Not translated yet', e: '多余' },
  });
  assert.ok(problems.includes('a: missing in zh-CN'));
  assert.ok(problems.includes('e: missing in en'));
  assert.ok(problems.some((p) => p.startsWith('b: placeholders differ')));
  assert.ok(problems.some((p) => p.startsWith('c: not ICU MessageFormat in en')));
  assert.ok(problems.some((p) => p.startsWith('d: zh-CN looks untranslated')));
});

test('the hard-coded string check finds English in JSX text, attributes and state, and lets catalogue calls pass', () => {
  const source = [
    '<h2>Payments</h2>',
    '<button aria-label="pay code">{t(\'x\')}</button>',
    "setError('Enter an amount.');",
    '<p>{t(\'wallet.title\')}</p>',
    '<td data-label={t(\'a\')}>{i18n.money(1, "EUR")}</td>',
    "<span class=\"badge\">{n}</span>",
  ].join('\n');
  assert.deepEqual(hardCodedStrings(source), ['1: Payments', '2: pay code', '3: Enter an amount.']);
});
