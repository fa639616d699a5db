/**
 * Platform limits: the most a shopper pays in one payment and in a day, and the most one top-up
 * and one day's top-ups may be, for every merchant. Every operator reads them; an admin changes
 * them after a confirmation that lists each change, old → new, and sees who changed what.
 */
import { useRef, useState } from 'preact/hooks';
import { parseMoney, plainAmount } from '@facepay/web-common';
import { i18n, t } from '../messages.ts';
import { Alert, ConfirmDialog, Field, Loading, message, money, useLoad, when } from '../ui.tsx';
import type { OpsSession } from './app.tsx';
import { opsCall } from './ops-api.ts';

interface Limit {
  key: string;
  value: number;
  default: number;
  source: 'operator' | 'default';
  updated_at: number | null;
  updated_by: string | null;
}

interface Limits {
  currency: string;
  data: Limit[];
}

interface Change {
  id: string;
  key: string;
  old_value: number;
  new_value: number;
  changed_by: string;
  changed_by_name: string | null;
  changed_at: number;
}

const label = (key: string): string => i18n.lookup(`limits.key.${key}`) ?? key;

export function LimitsPage({ session }: { session: OpsSession }) {
  const admin = session.me.role === 'admin';
  const limits = useLoad(() => opsCall<Limits>(session.token, 'GET', '/v1/operator/limits'), []);
  const changes = useLoad(() => (admin ? opsCall<{ data: Change[] }>(session.token, 'GET', '/v1/operator/limits/audit') : Promise.resolve({ data: [] as Change[] })), []);
  // What the admin has typed, per key; a key not typed in shows the value in effect.
  const [typed, setTyped] = useState<Record<string, string>>({});
  const [review, setReview] = useState<{ key: string; from: number; to: number }[]>();
  const [busy, setBusy] = useState(false);
  // State updates reach the button only at the next render: the ref stops a second click at once.
  const sending = useRef(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');

  if (!limits.data) return <Loading error={limits.error} />;
  const { currency, data } = limits.data;
  const cur = currency.toUpperCase();
  const shown = (l: Limit): string => typed[l.key] ?? plainAmount(l.value, cur);

  const ask = (e: Event) => {
    e.preventDefault();
    setError('');
    setDone('');
    const wanted: { key: string; from: number; to: number }[] = [];
    for (const l of data) {
      const to = parseMoney(shown(l), cur);
      if (to === undefined) {
        setError(t('limits.amountInvalid', { limit: label(l.key) }));
        return;
      }
      if (to !== l.value) wanted.push({ key: l.key, from: l.value, to });
    }
    if (wanted.length === 0) setError(t('limits.nothingChanged'));
    else setReview(wanted);
  };

  const apply = async () => {
    // A second click while the first is on its way is ignored; and setting a limit to the value
    // it already has changes nothing on the server, so a retry cannot change it twice.
    if (!review || sending.current) return;
    sending.current = true;
    setBusy(true);
    setError('');
    try {
      await opsCall<Limits>(session.token, 'PUT', '/v1/operator/limits', Object.fromEntries(review.map((c) => [c.key, c.to])));
      setDone(t('limits.changed', { count: review.length }));
      setReview(undefined);
      // The fields show the new values at once: cleared, they would show the old ones until the reload answers.
      setTyped(Object.fromEntries(review.map((c) => [c.key, plainAmount(c.to, cur)])));
      limits.reload();
      changes.reload();
    } catch (err) {
      setError(message(err, cur));
    } finally {
      sending.current = false;
      setBusy(false);
    }
  };

  return (
    <section>
      <h1>{t('limits.title')}</h1>
      <p>{t('limits.intro')}</p>
      {done && <p role="status">{done}</p>}
      <table>
        <thead>
          <tr>
            <th scope="col">{t('limits.limit')}</th>
            <th scope="col">{t('limits.inEffect')}</th>
            <th scope="col">{t('limits.default')}</th>
            <th scope="col">{t('limits.lastChanged')}</th>
          </tr>
        </thead>
        <tbody>
          {data.map((l) => (
            <tr key={l.key} data-limit={l.key}>
              <th scope="row">{label(l.key)}</th>
              <td>{money(l.value, cur)}</td>
              <td>{money(l.default, cur)}</td>
              <td>{l.source === 'default' ? t('limits.byDefault') : when(l.updated_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>

      {admin && (
        <form onSubmit={ask}>
          <h2>{t('limits.change')}</h2>
          {data.map((l) => (
            <Field
              key={l.key}
              id={`limit-${l.key}`}
              label={t('limits.field', { limit: label(l.key), currency: cur })}
              value={shown(l)}
              onInput={(v) => {
                setTyped({ ...typed, [l.key]: v });
                setReview(undefined);
              }}
              required
            />
          ))}
          {!review && <Alert text={error} />}
          <button type="submit" class="primary" disabled={busy}>
            {t('limits.review')}
          </button>
        </form>
      )}

      {review && (
        <ConfirmDialog
          id="limits-confirm"
          title={t('limits.confirmTitle')}
          confirm={t('limits.apply')}
          cancel={t('limits.cancel')}
          busy={busy}
          error={error}
          onConfirm={() => void apply()}
          onCancel={() => setReview(undefined)}
        >
          <ul>
            {review.map((c) => (
              <li key={c.key}>{t('limits.confirmLine', { limit: label(c.key), from: money(c.from, cur), to: money(c.to, cur) })}</li>
            ))}
          </ul>
        </ConfirmDialog>
      )}

      {admin && (
        <>
          <h2>{t('limits.history')}</h2>
          {changes.data && changes.data.data.length === 0 && <p>{t('limits.noChanges')}</p>}
          {changes.data && changes.data.data.length > 0 && (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('limits.when')}</th>
                  <th scope="col">{t('limits.limit')}</th>
                  <th scope="col">{t('limits.from')}</th>
                  <th scope="col">{t('limits.to')}</th>
                  <th scope="col">{t('limits.by')}</th>
                </tr>
              </thead>
              <tbody>
                {changes.data.data.map((c) => (
                  <tr key={c.id}>
                    <td>{when(c.changed_at)}</td>
                    <td>{label(c.key)}</td>
                    <td>{money(c.old_value, cur)}</td>
                    <td>{money(c.new_value, cur)}</td>
                    <td>{c.changed_by_name ?? c.changed_by}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
