/**
 * A merchant's platform fee rate on its page: the rate in effect (its own or the server's
 * default), the rates set to start later, and every rate set with who set it and why. An admin
 * sets a new rate from a day that has not begun, after a confirmation that says old → new and from
 * when; the server never changes a rate already charged, so a rate is only ever added.
 */
import { useRef, useState } from 'preact/hooks';
import { i18n, t } from '../messages.ts';
import { Alert, ConfirmDialog, Field, Loading, message, useLoad, when } from '../ui.tsx';
import type { OpsSession } from './app.tsx';
import { dayOf, dayProblem, parseRate, rateText } from './fee-input.ts';
import { opsCall } from './ops-api.ts';

interface Rate {
  id: string;
  bps: number;
  effective_from: string;
  time_zone: string;
  set_by: string;
  reason: string;
  created: number;
}

interface Schedule {
  bps: number;
  source: 'merchant' | 'default';
  default_bps: number;
  current: Rate | null;
  scheduled: Rate[];
  history: Rate[];
}

const tomorrow = (): string => {
  const d = new Date();
  d.setDate(d.getDate() + 1);
  return dayOf(d);
};

interface Wanted {
  from: number;
  to: number;
  day: string;
  reason: string;
  /** One key per change the admin confirms: a double click or a retry records one rate. */
  key: string;
}

export function FeesSection({ session, merchantId }: { session: OpsSession; merchantId: string }) {
  const admin = session.me.role === 'admin';
  const path = `/v1/operator/merchants/${encodeURIComponent(merchantId)}/fee_rates`;
  // The fee schedule is an admin's: a desk user is not shown the section at all.
  const schedule = useLoad(() => (admin ? opsCall<Schedule>(session.token, 'GET', path) : Promise.resolve(undefined)), [merchantId]);
  const [rate, setRate] = useState('');
  const [day, setDay] = useState(tomorrow);
  const [reason, setReason] = useState('');
  const [review, setReview] = useState<Wanted>();
  const [busy, setBusy] = useState(false);
  // State reaches the button only at the next render: the ref stops a second click at once.
  const sending = useRef(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');

  if (!admin) return null;
  if (!schedule.data) return <Loading error={schedule.error} />;
  const s = schedule.data;
  const by = (id: string): string => (id === session.me.id ? t('fees.byYou', { name: session.me.name }) : id);

  const ask = (e: Event) => {
    e.preventDefault();
    setError('');
    setDone('');
    const to = parseRate(rate);
    if (to === undefined) return setError(t('fees.rateInvalid'));
    const problem = dayProblem(day, new Date());
    if (problem) return setError(t(`fees.${problem}`));
    const why = reason.trim();
    if (why.length === 0 || why.length > 500) return setError(t('fees.reasonInvalid'));
    // Old is the rate the day would otherwise have: the last one scheduled up to it (a rate set
    // again for the same day replaces it), else the one in effect now.
    const before = [...s.scheduled].reverse().find((r) => r.effective_from <= day);
    setReview({ from: before?.bps ?? s.bps, to, day, reason: why, key: `console-fee-${crypto.randomUUID()}` });
  };

  const apply = async () => {
    if (!review || sending.current) return;
    sending.current = true;
    setBusy(true);
    setError('');
    try {
      const r = await opsCall<Rate>(session.token, 'POST', path, { bps: review.to, effective_from: review.day, reason: review.reason }, review.key);
      setDone(t('fees.set', { rate: rateText(r.bps), day: r.effective_from }));
      setReview(undefined);
      setRate('');
      setDay(tomorrow());
      setReason('');
      schedule.reload();
    } catch (err) {
      setError(message(err));
    } finally {
      sending.current = false;
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="fees-title">
      <h2 id="fees-title">{t('fees.title')}</h2>
      <p>
        {s.source === 'merchant' && s.current
          ? t('fees.currentOwn', { rate: rateText(s.bps), day: s.current.effective_from })
          : t('fees.currentDefault', { rate: rateText(s.bps) })}
      </p>
      {s.scheduled.length > 0 && (
        <ul aria-label={t('fees.scheduled')}>
          {s.scheduled.map((r) => (
            <li key={r.id}>{t('fees.scheduledLine', { rate: rateText(r.bps), day: r.effective_from })}</li>
          ))}
        </ul>
      )}
      {done && <p role="status">{done}</p>}

      <form onSubmit={ask}>
        <h3>{t('fees.new')}</h3>
        <Field id="fee-rate" label={t('fees.rateField')} hint={t('fees.rateHint', { default: rateText(s.default_bps) })} value={rate} onInput={(v) => {
          setRate(v);
          setReview(undefined);
        }} required />
        <Field id="fee-day" label={t('fees.dayField')} type="date" value={day} onInput={(v) => {
          setDay(v);
          setReview(undefined);
        }} required />
        <Field id="fee-reason" label={t('fees.reasonField')} value={reason} onInput={(v) => {
          setReason(v);
          setReview(undefined);
        }} required />
        {!review && <Alert text={error} />}
        <button type="submit" class="primary" disabled={busy}>
          {t('fees.review')}
        </button>
      </form>

      {review && (
        <ConfirmDialog
          id="fees-confirm"
          level={3}
          title={t('fees.confirmTitle')}
          confirm={t('fees.apply')}
          cancel={t('fees.cancel')}
          busy={busy}
          error={error}
          onConfirm={() => void apply()}
          onCancel={() => setReview(undefined)}
        >
          <p>{t('fees.confirmLine', { from: rateText(review.from), to: rateText(review.to), day: review.day })}</p>
          <p>{t('fees.confirmReason', { reason: review.reason })}</p>
        </ConfirmDialog>
      )}

      <h3>{t('fees.history')}</h3>
      {s.history.length === 0 ? (
        <p>{t('fees.noHistory')}</p>
      ) : (
        <table aria-label={t('fees.history')}>
          <thead>
            <tr>
              <th scope="col">{t('fees.rate')}</th>
              <th scope="col">{t('fees.from')}</th>
              <th scope="col">{t('fees.by')}</th>
              <th scope="col">{t('fees.reason')}</th>
              <th scope="col">{t('fees.setAt')}</th>
            </tr>
          </thead>
          <tbody>
            {s.history.map((r) => (
              <tr key={r.id}>
                <td>{rateText(r.bps)}</td>
                <td>{t('fees.dayInZone', { day: r.effective_from, zone: r.time_zone })}</td>
                <td>{by(r.set_by)}</td>
                <td>{r.reason}</td>
                <td>{when(r.created)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
