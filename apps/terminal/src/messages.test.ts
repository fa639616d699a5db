import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalogueProblems, hardCodedInApp } from '../../../packages/web-common/src/catalogue-check.ts';
import { terminalMessages } from './messages.ts';

test('the terminal catalogue has every key in English and Chinese, as valid ICU with the same placeholders', () => {
  assert.deepEqual(catalogueProblems(terminalMessages), []);
});

test('the terminal screens take every user-facing string from the catalogue', async () => {
  assert.deepEqual(await hardCodedInApp(new URL('.', import.meta.url).pathname), []);
});

test('the terminal in Chinese shows Chinese words and ¥ amounts', async () => {
  const { I18n } = await import('../../../packages/web-common/src/i18n.ts');
  const zh = new I18n(terminalMessages, 'zh-CN');
  assert.equal(zh.t('idle.ready'), '就绪');
  assert.equal(zh.t('confirm.pay', { amount: zh.money(1250, 'CNY') }), '支付 ¥12.50');
  assert.equal(new I18n(terminalMessages, 'en').t('digits.left', { count: 1 }), '1 try left');
});
