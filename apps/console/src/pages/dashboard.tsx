import { call, qs, type Dashboard } from '../api.ts';
import { CategoryChart } from '../charts.tsx';
import type { Session } from '../session.ts';
import { count, currentZone, Loading, money, percent, Stat, useLoad } from '../ui.tsx';

export function DashboardPage({ session }: { session: Session }) {
  const { data, error } = useLoad(() => call<Dashboard>('GET', `/v1/reports/dashboard${qs({ tz: currentZone() })}`));
  return (
    <>
      <h1>Dashboard</h1>
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
        Days in {d.time_zone}, amounts in {d.currency.toUpperCase()}.{session.me.role === 'cashier' ? ' Figures for the whole merchant.' : ''}
      </p>
      <section class="stats" aria-label="Key figures">
        <Stat label="Sales today" value={m(d.today.sales)} sub={count(d.today.payments, 'payment')} />
        <Stat label="Sales this month" value={m(d.month.sales)} sub={`${count(d.month.payments, 'payment')}, ${m(d.month.refunded)} refunded`} />
        <Stat label="Paid by face this month" value={percent(d.month.face_share)} sub={`${d.month.payments_by_face} by face, ${d.month.payments_by_pay_code} by pay code`} />
        <Stat label="New members this month" value={String(d.month.new_members)} sub={`${d.today.new_members} today`} />
        <Stat
          label="Returning members"
          value={percent(d.month.returning_member_rate)}
          sub={`${d.month.returning_members} of ${d.month.active_members} buying members this month`}
        />
        <Stat label="Campaign redemptions this month" value={String(d.month.redemptions)} sub={`${m(d.month.discount)} discount given`} />
      </section>
      <section class="charts">
        <CategoryChart title="Sales per day, last 30 days" labels={labels} yFormat={m} series={[{ label: 'Sales', values: d.daily.map((x) => x.sales), color: '#2f5d9e', bars: true, format: m }]} />
        <CategoryChart
          title="Terminal payments: by face and by pay code"
          labels={labels}
          series={[
            { label: 'By face', values: d.daily.map((x) => x.payments_by_face), color: '#0b6e4f' },
            { label: 'By pay code', values: d.daily.map((x) => x.payments_by_pay_code), color: '#a34700' },
          ]}
        />
        <CategoryChart
          title="New members and campaign redemptions per day"
          labels={labels}
          series={[
            { label: 'New members', values: d.daily.map((x) => x.new_members), color: '#6a3d9a' },
            { label: 'Redemptions', values: d.daily.map((x) => x.redemptions), color: '#a34700' },
          ]}
        />
      </section>
    </>
  );
}
