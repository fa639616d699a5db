import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, CONFIG_VARS, loadConfig } from './index.ts';

test('defaults, documented variables, and refused bad values', () => {
  const c = loadConfig({}, '/srv/facepay');
  assert.equal(c.port, 3000);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.dataDir, '/srv/facepay/data');
  assert.equal(c.pgUrl, undefined);
  assert.equal(c.platformFeeBps, 100);
  for (const name of ['PORT', 'HOST', 'FACEPAY_DATA_DIR', 'FACEPAY_PG_URL', 'FACEPAY_PLATFORM_FEE_BPS']) {
    assert.ok(CONFIG_VARS.some((v) => v.name === name), `${name} is documented`);
  }
  const set = loadConfig({ PORT: '8080', FACEPAY_PG_URL: 'postgres://x@y/z', FACEPAY_PLATFORM_FEE_BPS: '250', FACEPAY_DATA_DIR: '/var/fp' });
  assert.equal(set.port, 8080);
  assert.equal(set.pgUrl, 'postgres://x@y/z');
  assert.equal(set.platformFeeBps, 250);
  assert.equal(set.dataDir, '/var/fp');
  assert.throws(() => loadConfig({ PORT: 'eighty' }), ConfigError);
  assert.equal(loadConfig({}).faceChallengeKinds, undefined);
  assert.deepEqual(loadConfig({ FACEPAY_CHALLENGE_KINDS: 'turn_left, blink' }).faceChallengeKinds, ['turn_left', 'blink']);
  assert.throws(() => loadConfig({ FACEPAY_CHALLENGE_KINDS: 'nod' }), /FACEPAY_CHALLENGE_KINDS/);
  assert.equal(loadConfig({}).searchBudgetMs, 15);
  assert.equal(loadConfig({ FACEPAY_SEARCH_BUDGET_MS: '40' }).searchBudgetMs, 40);
  assert.throws(() => loadConfig({ FACEPAY_SEARCH_BUDGET_MS: '0' }), /FACEPAY_SEARCH_BUDGET_MS/);
  assert.throws(() => loadConfig({ FACEPAY_PLATFORM_FEE_BPS: '10001' }), /FACEPAY_PLATFORM_FEE_BPS/);
  assert.throws(() => loadConfig({ FACEPAY_PLATFORM_FEE_BPS: '1.5' }), ConfigError);
  assert.throws(() => loadConfig({ FACEPAY_PG_URL: 'mysql://x' }), /FACEPAY_PG_URL/);
  assert.throws(() => loadConfig({ FACEPAY_LOG_LEVEL: 'loud' }), /FACEPAY_LOG_LEVEL/);
  assert.throws(() => loadConfig({ FACEPAY_WALLET_CURRENCY: 'abc' }), /ISO 4217/);
  assert.throws(() => loadConfig({ FACEPAY_TRUST_PROXY: 'everyone' }), /FACEPAY_TRUST_PROXY/);
  assert.equal(loadConfig({ FACEPAY_TRUST_PROXY: '10.0.0.0/8' }).trustProxy, '10.0.0.0/8');
  assert.equal(loadConfig({}).rateLimits, true);
  assert.equal(loadConfig({ FACEPAY_RATE_LIMITS: '0' }).rateLimits, false);
});

test('going live: TLS files, the redirect port, the metrics token and the SMTP URL', () => {
  const c = loadConfig({ FACEPAY_TLS_CERT: '/etc/fp/s.pem', FACEPAY_TLS_KEY: '/etc/fp/k.pem', FACEPAY_TLS_CA: '/etc/fp/root.pem', FACEPAY_HTTP_PORT: '80' });
  assert.deepEqual(c.tls, { certFile: '/etc/fp/s.pem', keyFile: '/etc/fp/k.pem', caFile: '/etc/fp/root.pem' });
  assert.equal(c.httpRedirectPort, 80);
  assert.equal(loadConfig({}).tls, undefined);
  assert.equal(loadConfig({}).httpRedirectPort, undefined);
  assert.throws(() => loadConfig({ FACEPAY_TLS_KEY: 'k.pem' }), /go together/);
  assert.throws(() => loadConfig({ FACEPAY_HTTP_PORT: '70000' }), /FACEPAY_HTTP_PORT/);
  assert.throws(() => loadConfig({ FACEPAY_METRICS_TOKEN: 'short' }), /FACEPAY_METRICS_TOKEN/);
  assert.equal(loadConfig({ FACEPAY_METRICS_TOKEN: 'a-long-enough-token' }).metricsToken, 'a-long-enough-token');
  assert.throws(() => loadConfig({ FACEPAY_SMTP_URL: 'http://relay' }), /FACEPAY_SMTP_URL/);
  assert.equal(loadConfig({ FACEPAY_SMTP_URL: 'smtps://u:p@relay:465' }).smtpUrl, 'smtps://u:p@relay:465');
  for (const name of ['FACEPAY_TLS_CERT', 'FACEPAY_TLS_KEY', 'FACEPAY_HTTP_PORT', 'FACEPAY_METRICS_TOKEN', 'FACEPAY_SMTP_URL', 'FACEPAY_MAIL_FROM']) {
    assert.ok(CONFIG_VARS.some((v) => v.name === name), `${name} is documented`);
  }
});

test('FACEPAY_GALLERY_PARTITIONS: unset serves every partition; a list is trimmed; a bad or repeated id stops the start naming the variable', () => {
  assert.equal(loadConfig({}).galleryPartitions, undefined);
  assert.equal(loadConfig({ FACEPAY_GALLERY_PARTITIONS: '  ' }).galleryPartitions, undefined);
  assert.deepEqual(loadConfig({ FACEPAY_GALLERY_PARTITIONS: 'eu-north, grocer_x,asia.1' }).galleryPartitions, ['eu-north', 'grocer_x', 'asia.1']);
  assert.throws(() => loadConfig({ FACEPAY_GALLERY_PARTITIONS: 'eu,,us' }), /FACEPAY_GALLERY_PARTITIONS must list partition ids/);
  assert.throws(() => loadConfig({ FACEPAY_GALLERY_PARTITIONS: 'eu north' }), /FACEPAY_GALLERY_PARTITIONS must list partition ids/);
  assert.throws(() => loadConfig({ FACEPAY_GALLERY_PARTITIONS: '-eu' }), ConfigError);
  assert.throws(() => loadConfig({ FACEPAY_GALLERY_PARTITIONS: 'x'.repeat(101) }), ConfigError);
  assert.throws(() => loadConfig({ FACEPAY_GALLERY_PARTITIONS: 'eu,us,eu' }), /names partition "eu" twice/);
  assert.ok(CONFIG_VARS.some((v) => v.name === 'FACEPAY_GALLERY_PARTITIONS'), 'documented for --help');
});
