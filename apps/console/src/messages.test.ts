import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalogueProblems, hardCodedInApp } from '../../../packages/web-common/src/catalogue-check.ts';
import { consoleMessages } from './messages.ts';

test('the console catalogue has every key in English and Chinese, as valid ICU with the same placeholders', () => {
  assert.deepEqual(catalogueProblems(consoleMessages), []);
});

test('the console screens take every user-facing string from the catalogue', async () => {
  assert.deepEqual(await hardCodedInApp(new URL('.', import.meta.url).pathname), []);
});
