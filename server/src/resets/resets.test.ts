import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { ManualClock } from '../platform/index.ts';
import { describeEachDialect } from '../storage/testing.ts';
import { testPlatform, type TestPlatform } from '../testing.ts';

interface Received {
  to: string[];
  raw: string;
  text: string;
}

/** The body of a message as nodemailer wrote it: quoted-printable undone. */
function bodyOf(raw: string): string {
  const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
  const body = rest.join('\n\n');
  if (!/content-transfer-encoding:\s*quoted-printable/i.test(head)) return body;
  return body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

describeEachDialect('password reset by e-mail', (dialect) => {
  let p: TestPlatform;
  let smtp: SMTPServer;
  const inbox: Received[] = [];
  let refusing = false;
  const clock = new ManualClock(new Date('2026-12-07T10:00:00Z'));
  before(async () => {
    // A real SMTP server in this process: the platform's mail crosses a socket as it would to a relay.
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(address, _session, done) {
        done(refusing ? Object.assign(new Error('try again later'), { responseCode: 451 }) : undefined);
      },
      onData(stream, session, done) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          inbox.push({ to: session.envelope.rcptTo.map((r) => r.address), raw, text: bodyOf(raw) });
          done();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const port = (smtp.server.address() as AddressInfo).port;
    p = await testPlatform(dialect, {
      env: { FACEPAY_SMTP_URL: `smtp://127.0.0.1:${port}`, FACEPAY_PUBLIC_URL: 'https://shop.test:3443', FACEPAY_MAIL_FROM: 'Shop <shop@shop.test>' },
      overrides: { clock },
    });
  });
  after(async () => {
    await p.dispose();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
  });

  const post = (url: string, payload: object, headers: Record<string, string> = {}) => p.app.inject({ method: 'POST', url, payload, headers });
  const tokenIn = (m: Received | undefined, path: string): string => {
    const link = new RegExp(`https://shop\\.test:3443/${path}/reset-password\\?token=([A-Za-z0-9_-]{43})`).exec(m?.text ?? '');
    assert.ok(link, `a reset link in: ${m?.text}`);
    return link[1]!;
  };

  test('staff: the same answer for a known and an unknown address; the link arrives by SMTP, works once, ends sessions', async () => {
    const email = `owner-${dialect}@shop.test`;
    await p.services.staff!.create(p.merchantId, { email, name: 'Owner', password: 'old password 123', role: 'owner' });
    const login = await post('/v1/staff/login', { email, password: 'old password 123' });
    assert.equal(login.statusCode, 200);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;

    const known = await post('/v1/staff/password_reset', { email: email.toUpperCase() });
    const unknown = await post('/v1/staff/password_reset', { email: `nobody-${dialect}@shop.test` });
    assert.equal(known.statusCode, 202);
    assert.equal(unknown.statusCode, 202);
    assert.deepEqual(known.json(), unknown.json(), 'nothing tells whether the address has an account');

    inbox.length = 0;
    assert.deepEqual(await p.mail.tick(), { sent: 1, failed: 0 }, 'one message for the known address only');
    assert.equal(inbox.length, 1);
    assert.deepEqual(inbox[0]!.to, [email]);
    assert.match(inbox[0]!.raw, /^From: Shop <shop@shop\.test>/m);
    assert.match(inbox[0]!.raw, /^Subject: Reset your Facepay password/m);
    const token = tokenIn(inbox[0], 'console');

    const weak = await post('/v1/staff/password_reset/complete', { token, password: 'short' });
    assert.equal(weak.statusCode, 400);
    assert.equal(weak.json().error.code, 'password_too_short');
    const done = await post('/v1/staff/password_reset/complete', { token, password: 'a new long password' });
    assert.equal(done.statusCode, 200, done.body);
    assert.equal((await post('/v1/staff/password_reset/complete', { token, password: 'another long password' })).json().error.code, 'reset_token_invalid', 'single use');
    assert.equal((await p.app.inject({ method: 'GET', url: '/v1/staff/me', headers: { cookie } })).statusCode, 401, 'the old session ended');
    assert.equal((await post('/v1/staff/login', { email, password: 'old password 123' })).statusCode, 401);
    assert.equal((await post('/v1/staff/login', { email, password: 'a new long password' })).statusCode, 200);
    assert.equal(await p.mail.pending(), 0);
  });

  test('shopper: a link expires after an hour, and a newer one works', async () => {
    const email = `shopper-${dialect}@shop.test`;
    assert.equal((await post('/v1/shopper/signup', { email, password: 'shopper password 1', name: 'Sam Shopper' })).statusCode, 202);
    await post('/v1/shopper/password_reset', { email });
    inbox.length = 0;
    await p.mail.tick();
    const stale = tokenIn(inbox[0], 'portal');
    clock.advance(61 * 60_000);
    assert.equal((await post('/v1/shopper/password_reset/complete', { token: stale, password: 'shopper password 2' })).json().error.code, 'reset_token_invalid');
    await post('/v1/shopper/password_reset', { email });
    await p.mail.tick();
    const fresh = tokenIn(inbox[1], 'portal');
    assert.equal((await post('/v1/shopper/password_reset/complete', { token: fresh, password: 'shopper password 2' })).statusCode, 200);
    assert.equal((await post('/v1/shopper/login', { email, password: 'shopper password 2' })).statusCode, 200);
    assert.equal((await post('/v1/shopper/password_reset/complete', { token: 'x'.repeat(43), password: 'shopper password 3' })).json().error.code, 'reset_token_invalid');
  });

  test('operator staff: the same anonymous answer; the mailed link opens the operator page, works once, ends sessions', async () => {
    const email = `ops-${dialect}@operator.example`;
    await p.services.operators!.create({ email, name: 'Ada Admin', password: 'admin password 1', role: 'admin' });
    const session = (await p.services.operators!.logIn(email, 'admin password 1')).sessionToken;
    const me = () => p.app.inject({ method: 'GET', url: '/v1/operator/me', headers: { authorization: `Bearer ${session}` } });
    assert.equal((await me()).statusCode, 200);

    const known = await post('/v1/operator/password_reset', { email: email.toUpperCase() });
    const unknown = await post('/v1/operator/password_reset', { email: `nobody-${dialect}@operator.example` });
    assert.deepEqual([known.statusCode, unknown.statusCode], [202, 202]);
    assert.deepEqual(known.json(), unknown.json(), 'nothing tells whether the address has a login');
    // A merchant's staff address is not an operator login, and the other way round.
    await post('/v1/staff/password_reset', { email });
    inbox.length = 0;
    assert.deepEqual(await p.mail.tick(), { sent: 1, failed: 0 }, 'one message, for the known operator address only');
    assert.deepEqual(inbox[0]!.to, [email]);
    assert.match(inbox[0]!.text, /your Facepay operator login/);
    const opsToken = (m: Received | undefined): string => {
      const link = /https:\/\/shop\.test:3443\/console\/operator-reset-password\?token=([A-Za-z0-9_-]{43})/.exec(m?.text ?? '');
      assert.ok(link, `an operator reset link in: ${m?.text}`);
      return link[1]!;
    };
    const token = opsToken(inbox[0]);
    assert.equal((await post('/v1/staff/password_reset/complete', { token, password: 'a new long password' })).json().error.code, 'reset_token_invalid', 'not a console staff link');
    assert.equal((await post('/v1/operator/password_reset/complete', { token, password: 'short' })).json().error.code, 'password_too_short');

    const done = await post('/v1/operator/password_reset/complete', { token, password: 'a new admin password' });
    assert.equal(done.statusCode, 200, done.body);
    assert.equal((await post('/v1/operator/password_reset/complete', { token, password: 'another admin password' })).json().error.code, 'reset_token_invalid', 'single use');
    assert.equal((await me()).statusCode, 401, 'the old session ended');
    assert.equal((await post('/v1/operator/login', { email, password: 'admin password 1' })).statusCode, 401);
    assert.equal((await post('/v1/operator/login', { email, password: 'a new admin password' })).statusCode, 200);

    await post('/v1/operator/password_reset', { email });
    inbox.length = 0;
    await p.mail.tick();
    const stale = opsToken(inbox[0]);
    clock.advance(61 * 60_000);
    assert.equal((await post('/v1/operator/password_reset/complete', { token: stale, password: 'a third admin password' })).json().error.code, 'reset_token_invalid', 'expired after an hour');
  });

  test('signed in, staff and shoppers change their password with the current one; other sessions end', async () => {
    const email = `manager-${dialect}@shop.test`;
    await p.services.staff!.create(p.merchantId, { email, name: 'Manager', password: 'manager password 1', role: 'manager' });
    const cookieOf = (r: { headers: Record<string, unknown> }): string => String(r.headers['set-cookie']).split(';')[0]!;
    const first = cookieOf(await post('/v1/staff/login', { email, password: 'manager password 1' }));
    const second = cookieOf(await post('/v1/staff/login', { email, password: 'manager password 1' }));
    const consoleHeaders = { cookie: first, 'x-facepay-console': '1' };
    const wrong = await post('/v1/staff/password', { current_password: 'not it at all', new_password: 'manager password 2' }, consoleHeaders);
    assert.equal(wrong.statusCode, 403);
    assert.equal(wrong.json().error.code, 'current_password_wrong');
    const changed = await post('/v1/staff/password', { current_password: 'manager password 1', new_password: 'manager password 2' }, consoleHeaders);
    assert.equal(changed.statusCode, 200, changed.body);
    const renewed = cookieOf(changed);
    assert.equal((await p.app.inject({ method: 'GET', url: '/v1/staff/me', headers: { cookie: second } })).statusCode, 401, 'the other session ended');
    assert.equal((await p.app.inject({ method: 'GET', url: '/v1/staff/me', headers: { cookie: renewed } })).statusCode, 200, 'this one goes on with a new cookie');
    assert.equal((await post('/v1/staff/login', { email, password: 'manager password 2' })).statusCode, 200);

    const shopper = `changer-${dialect}@shop.test`;
    assert.equal((await post('/v1/shopper/signup', { email: shopper, password: 'shopper secret 1', name: 'Chris Changer' })).statusCode, 202);
    const sc = cookieOf(await post('/v1/shopper/login', { email: shopper, password: 'shopper secret 1' }));
    assert.equal((await post('/v1/shopper/password', { current_password: 'shopper secret 1', new_password: 'short' }, { cookie: sc })).json().error.code, 'password_too_short');
    assert.equal((await post('/v1/shopper/password', { current_password: 'shopper secret 1', new_password: 'shopper secret 2' }, { cookie: sc })).statusCode, 200);
    assert.equal((await post('/v1/shopper/login', { email: shopper, password: 'shopper secret 1' })).statusCode, 401);
    assert.equal((await post('/v1/shopper/login', { email: shopper, password: 'shopper secret 2' })).statusCode, 200);
  });

  test('mail recorded in a transaction that rolls back is never sent; a relay that refuses is retried later', async () => {
    await assert.rejects(
      p.db.transaction(async (tx) => {
        await p.mail.record(tx, { to: 'ghost@shop.test', subject: 'never', text: 'never' });
        throw new Error('the change failed');
      }),
    );
    inbox.length = 0;
    assert.deepEqual(await p.mail.tick(), { sent: 0, failed: 0 });
    assert.equal(inbox.length, 0);

    await p.db.transaction((tx) => p.mail.record(tx, { to: 'later@shop.test', subject: 'hello', text: 'hello' }));
    refusing = true;
    assert.deepEqual(await p.mail.tick(), { sent: 0, failed: 1 });
    refusing = false;
    assert.deepEqual(await p.mail.tick(), { sent: 0, failed: 0 }, 'not again before its backoff');
    assert.equal(await p.mail.pending(), 1);
    clock.advance(11_000);
    assert.deepEqual(await p.mail.tick(), { sent: 1, failed: 0 });
    assert.deepEqual(inbox.map((m) => m.to), [['later@shop.test']]);
  });
});
