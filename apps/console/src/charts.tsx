/**
 * Charts for people who would rather look than read, drawn by uPlot. Each chart also carries its
 * numbers as a table for screen readers and keyboard users (visually hidden, or open on request).
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { t } from './messages.ts';

export interface SeriesSpec {
  label: string;
  values: number[];
  color: string;
  /** Bars instead of a line. */
  bars?: boolean;
  format?: (v: number) => string;
}

/** Steps of 1, 2 and 5 times a power of ten: the values are whole (minor units, counts), so are the ticks. */
const WHOLE_STEPS = Array.from({ length: 15 }, (_, e) => [1, 2, 5].map((m) => m * 10 ** e)).flat();

/** Room for the longest tick label at the axis font (12 px), so that none is cut off at the chart's edge. */
function axisWidth(values: string[] | null): number {
  const longest = Math.max(1, ...(values ?? []).map((v) => v.length));
  return Math.ceil(longest * 7.5) + 18;
}

/**
 * A chart over labelled categories (days, groups): x is the index, the axis shows the labels. The
 * y axis starts at zero, as bars and counts must to be read fairly, and steps by whole units, at
 * least `yStep` (a currency's major unit for money in minor units). The tick labels drawn are also
 * kept on the chart's box (`data-y-ticks`), since the canvas holds no text a test or tool can read.
 */
export function CategoryChart(props: {
  title: string;
  labels: string[];
  series: SeriesSpec[];
  height?: number;
  yFormat?: (v: number) => string;
  yStep?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const xs = props.labels.map((_, i) => i);
    const bars = uPlot.paths.bars!({ size: [0.6, 40] });
    const step = props.yStep ?? 1;
    const format = props.yFormat ?? ((v: number) => String(v));
    let ticks: string[] = [];
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: props.height ?? 220,
      scales: {
        x: { time: false, range: (_u, min, max) => [min - 0.6, max + 0.6] },
        // Zero always in view (below it only for negative values, such as a day's net refunds), headroom
        // above the highest value, and an empty chart still spans one step.
        y: { range: (_u, min, max) => [Math.min(0, (min ?? 0) * 1.1), Math.max(step, (max ?? 0) * 1.1)] },
      },
      legend: { show: props.series.length > 1 },
      cursor: { points: { show: false } },
      axes: [
        {
          stroke: '#3c4a63',
          grid: { show: false },
          values: (_u, splits) => splits.map((i) => (Number.isInteger(i) ? (props.labels[i] ?? '') : '')),
        },
        {
          stroke: '#3c4a63',
          grid: { stroke: '#e3e7ee' },
          incrs: WHOLE_STEPS.filter((x) => x >= step),
          size: (_u, values) => axisWidth(values),
          values: (_u, splits) => (ticks = splits.map((v) => format(v))),
        },
      ],
      hooks: { draw: [() => el.setAttribute('data-y-ticks', ticks.join('|'))] },
      series: [
        { label: t('chart.day'), value: (_u, i) => (i === null ? '' : (props.labels[i] ?? '')) },
        ...props.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          fill: s.bars ? s.color : undefined,
          ...(s.bars ? { paths: bars, points: { show: false } } : { points: { show: true, size: 5 } }),
          ...(s.format ? { value: (_u: uPlot, v: number | null) => (v === null ? '—' : s.format!(v)) } : {}),
        })),
      ],
    };
    const plot = new uPlot(opts, [xs, ...props.series.map((s) => s.values)], el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height: props.height ?? 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [JSON.stringify(props.labels), JSON.stringify(props.series.map((s) => [s.label, s.values]))]);

  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={box} class="chart-box" aria-hidden="true" />
      <details class="chart-data">
        <summary>{props.title}: the numbers</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">—</th>
              {props.series.map((s) => (
                <th scope="col" key={s.label}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.labels.map((l, i) => (
              <tr key={l}>
                <th scope="row">{l}</th>
                {props.series.map((s) => (
                  <td key={s.label}>{s.format ? s.format(s.values[i] ?? 0) : (s.values[i] ?? 0)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

/**
 * The uplift of a campaign: spend per member of the treated group against the holdout as bars, and
 * the difference with its confidence interval drawn as a point with whiskers around zero.
 */
export function UpliftChart(props: {
  treatment: number;
  holdout: number;
  uplift: { difference: number; low: number; high: number; confidence: number } | null;
  format: (v: number) => string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const u = props.uplift;
    const labels = [t('chart.holdout'), t('chart.treated'), t('chart.uplift')];
    const bars = uPlot.paths.bars!({ size: [0.5, 60] });
    const lo = Math.min(0, props.holdout, props.treatment, u?.low ?? 0);
    const hi = Math.max(0, props.holdout, props.treatment, u?.high ?? 0);
    // With no spend yet the axis still spans a little money rather than fractions of a cent.
    const pad = (hi - lo) * 0.1 || 100;
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: 240,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false, range: [-0.6, 2.6] }, y: { range: [lo - pad, hi + pad] } },
      axes: [
        { stroke: '#3c4a63', grid: { show: false }, values: (_u, splits) => splits.map((i) => (Number.isInteger(i) ? (labels[i] ?? '') : '')) },
        { stroke: '#3c4a63', size: 80, grid: { stroke: '#e3e7ee' }, values: (_u, splits) => splits.map((v) => props.format(v)) },
      ],
      series: [{}, { label: t('chart.spendPerMember'), stroke: '#2f5d9e', fill: '#2f5d9e', paths: bars, points: { show: false } }],
      hooks: {
        draw: [
          (plot) => {
            const ctx = plot.ctx;
            const x = plot.valToPos(2, 'x', true);
            const zero = plot.valToPos(0, 'y', true);
            ctx.save();
            ctx.strokeStyle = '#3c4a63';
            ctx.setLineDash([4, 4]);
            ctx.beginPath();
            ctx.moveTo(plot.bbox.left, zero);
            ctx.lineTo(plot.bbox.left + plot.bbox.width, zero);
            ctx.stroke();
            ctx.setLineDash([]);
            if (u) {
              const yLow = plot.valToPos(u.low, 'y', true);
              const yHigh = plot.valToPos(u.high, 'y', true);
              const yMid = plot.valToPos(u.difference, 'y', true);
              const w = 14 * devicePixelRatio;
              ctx.strokeStyle = '#0b6e4f';
              ctx.fillStyle = '#0b6e4f';
              ctx.lineWidth = 3 * devicePixelRatio;
              ctx.beginPath();
              ctx.moveTo(x, yLow);
              ctx.lineTo(x, yHigh);
              ctx.moveTo(x - w, yLow);
              ctx.lineTo(x + w, yLow);
              ctx.moveTo(x - w, yHigh);
              ctx.lineTo(x + w, yHigh);
              ctx.stroke();
              ctx.beginPath();
              ctx.arc(x, yMid, 6 * devicePixelRatio, 0, 2 * Math.PI);
              ctx.fill();
            }
            ctx.restore();
          },
        ],
      },
    };
    const plot = new uPlot(opts, [[0, 1, 2], [props.holdout, props.treatment, null]] as uPlot.AlignedData, el);
    return () => plot.destroy();
  }, [props.treatment, props.holdout, JSON.stringify(props.uplift)]);
  const u = props.uplift;
  return (
    <figure class="chart">
      <figcaption>{t('chart.caption', { confidence: u ? Math.round(u.confidence * 100) : 95 })}</figcaption>
      <div ref={box} class="chart-box" aria-hidden="true" />
      <p class="chart-summary" data-testid="uplift-summary">
        {t('chart.summary', { holdout: props.format(props.holdout), treated: props.format(props.treatment) })}{' '}
        {u
          ? t('chart.upliftLine', { uplift: props.format(u.difference), confidence: Math.round(u.confidence * 100), low: props.format(u.low), high: props.format(u.high) })
          : t('chart.notEnough')}
      </p>
    </figure>
  );
}
