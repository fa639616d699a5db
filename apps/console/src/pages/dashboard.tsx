import { call, qs, type Dashboard } from '../api.ts';
import { CategoryChart } from '../charts.tsx';
import type { Session } from '../session.ts';
import { currentZone, Loading, money, percent, Stat, useLoad, minorPerMajor } from '../ui.tsx';
import { t } from '../messages.ts';

export function DashboardPage({ session }: { session: Session }) {
  const { data, error } = useLoad(() => call<Dashboard>('GET', `/v1/reports/dashboard${qs({ tz: currentZone() })}`));
  return (
    <>
      <h1>{t('dash.dashboard')}</h1>
      <Loading error={error}>
        {data && <DashboardBody d={data} session={session} />}
      </Loading>
    </>
  );
}

function DashboardBody({ d, session }: { d: Dashboard; session: Session }) {
  const m = (v: number): string => money(v, d.currency);
  const labels = d.daily.map((x) => x.date.slice(5));
  return (
    <>
      <p class="hint">
        {t('dash.daysIn', { zone: d.time_zone, currency: d.currency.toUpperCase() })}
        {session.me.role === 'cashier' ? ` ${t('dash.wholeMerchant')}` : ''}
      </p>
      <section class="stats" aria-label={t('dash.keyFigures')}>
        <Stat label={t('dash.salesToday')} value={m(d.today.sales)} sub={t('dash.payments', { n: d.today.payments })} />
        <Stat label={t('dash.salesThisMonth')} value={m(d.month.sales)} sub={t('dash.paymentsRefunded', { n: d.month.payments, refunded: m(d.month.refunded) })} />
        <Stat label={t('dash.paidByFaceThis')} value={percent(d.month.face_share)} sub={t('dash.byFaceByCode', { face: d.month.payments_by_face, code: d.month.payments_by_pay_code })} />
        <Stat label={t('dash.newMembersThisMonth')} value={String(d.month.new_members)} sub={t('dash.today', { n: d.today.new_members })} />
        <Stat
          label={t('dash.returningMembers')}
          value={percent(d.month.returning_member_rate)}
          sub={t('dash.returningOf', { returning: d.month.returning_members, active: d.month.active_members })}
        />
        <Stat label={t('dash.campaignRedemptionsThisMonth')} value={String(d.month.redemptions)} sub={t('dash.discountGiven', { amount: m(d.month.discount) })} />
      </section>
      <section class="charts">
        <CategoryChart title={t('dash.salesPerDayLast')} labels={labels} yFormat={m} yStep={minorPerMajor(d.currency)} series={[{ label: t('dash.sales'), values: d.daily.map((x) => x.sales), color: '#2f5d9e', bars: true, format: m }]} />
        <CategoryChart
          title={t('dash.terminalPaymentsByFace')}
          labels={labels}
          series={[
            { label: t('dash.byFace'), values: d.daily.map((x) => x.payments_by_face), color: '#0b6e4f' },
            { label: t('dash.byPayCode'), values: d.daily.map((x) => x.payments_by_pay_code), color: '#a34700' },
          ]}
        />
        <CategoryChart
          title={t('dash.newMembersAndCampaign')}
          labels={labels}
          series={[
            { label: t('dash.newMembers'), values: d.daily.map((x) => x.new_members), color: '#6a3d9a' },
            { label: t('dash.redemptions'), values: d.daily.map((x) => x.redemptions), color: '#a34700' },
          ]}
        />
      </section>
    </>
  );
}
