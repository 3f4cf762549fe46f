/** The dashboard's charts: uPlot horizontal bars (long category names stay readable on a phone). */

import uPlot from '../../../vendor/uplot/uPlot.esm.js';
import { esc } from '../../format.js';
import { t, tOr } from '../../i18n.js';
import { number } from './numbers.js';

const CHART_FONT = '13px system-ui, "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", sans-serif';
const COLOURS = {
  current: '#ffc107',
  previous: '#6fa8ff',
  kind: '#5fe08a',
  critical: '#ff6b6b',
  major: '#ffb347',
  minor: '#6fa8ff',
  warning: '#c3cfdf',
  axis: '#c3cfdf',
  grid: '#3a5277',
  label: '#f4f7fb',
};

let charts = [];
let resizeObserver = null;

export function ensureChartStyles() {
  if (document.querySelector('link[data-uplot]')) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = '/vendor/uplot/uPlot.min.css';
  link.dataset.uplot = '';
  document.head.append(link);
}

function textWidth(labels) {
  const context = document.createElement('canvas').getContext('2d');
  context.font = CHART_FONT;
  return Math.max(40, ...labels.map((label) => context.measureText(label).width));
}

/**
 * Value labels at the end of each bar, so no hover is needed to read a number on a phone. Positions come
 * from the plot box (canvas pixels): categories run top to bottom, values left to right from zero.
 */
function drawValues(u, bars) {
  const { ctx, bbox } = u;
  const ratio = bbox.width / (u.scales.y.max - u.scales.y.min);
  const band = bbox.height / (u.scales.x.max - u.scales.x.min);
  ctx.save();
  ctx.font = `bold ${CHART_FONT.replace(/^\d+px/, (px) => `${parseInt(px, 10) * uPlot.pxRatio}px`)}`;
  ctx.fillStyle = COLOURS.label;
  ctx.textBaseline = 'middle';
  bars.forEach((bar, s) => {
    u.data[s + 1].forEach((value, i) => {
      if (value === null || value === undefined) return;
      const along = bbox.top + (i - u.scales.x.min) * band + bar.align * band * bar.size * 0.5;
      const across = bbox.left + (value - u.scales.y.min) * ratio;
      ctx.fillText(number(value), across + 6 * uPlot.pxRatio, along);
    });
  });
  ctx.restore();
}

/** A horizontal bar chart: one bar per label and series; `bars` = [{label, values, colour, align, size}]. */
function barChart(el, labels, bars) {
  const count = labels.length;
  const labelWidth = Math.ceil(textWidth(labels)) + 14;
  const rowHeight = bars.length > 1 ? 46 : 34;
  const max = Math.max(1, ...bars.flatMap((b) => b.values.filter((v) => v !== null)));
  const options = {
    width: Math.max(240, el.clientWidth),
    height: count * rowHeight + 44,
    legend: { show: bars.length > 1, live: false },
    cursor: { show: false },
    select: { show: false },
    scales: {
      x: { time: false, ori: 1, dir: -1, range: [-0.5, count - 0.5] },
      // Room on the right for the value labels.
      y: { range: [0, Math.ceil(max * 1.2) + 1], ori: 0, dir: 1 },
    },
    axes: [
      {
        scale: 'x',
        side: 3,
        size: labelWidth,
        font: CHART_FONT,
        stroke: COLOURS.axis,
        grid: { show: false },
        ticks: { show: false },
        splits: () => labels.map((_, i) => i),
        values: (u, splits) => splits.map((i) => labels[i] ?? ''),
      },
      {
        scale: 'y',
        side: 2,
        font: CHART_FONT,
        stroke: COLOURS.axis,
        grid: { stroke: COLOURS.grid, width: 1 },
        ticks: { stroke: COLOURS.grid },
        incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
        values: (u, splits) => splits.map((v) => number(v)),
      },
    ],
    series: [
      {},
      ...bars.map((bar) => ({
        label: bar.label,
        fill: bar.colour,
        stroke: bar.colour,
        width: 0,
        points: { show: false },
        paths: uPlot.paths.bars({ size: [bar.size, 80], align: bar.align }),
      })),
    ],
    hooks: { draw: [(u) => drawValues(u, bars)] },
  };
  const data = [labels.map((_, i) => i), ...bars.map((bar) => bar.values)];
  const chart = new uPlot(options, data, el);
  charts.push({ chart, el });
  return chart;
}

export function chartCard(key, title, caption) {
  return `<section class="card dash-chart" data-chart-card="${key}">
    <h3>${esc(title)}</h3>
    ${caption ? `<p class="muted small">${esc(caption)}</p>` : ''}
    <div class="chart" data-chart="${key}"></div>
  </section>`;
}

export function drawCharts(root, report) {
  const complaints = report.complaints.byCategory;
  const complaintBox = root.querySelector('[data-chart="complaints"]');
  if (complaints.length) {
    barChart(
      complaintBox,
      complaints.map((c) => tOr(`category.${c.category}`, c.category)),
      [
        { label: t('dash.thisPeriod'), values: complaints.map((c) => c.count), colour: COLOURS.current, align: -1, size: 0.4 },
        { label: t('dash.previousPeriod'), values: complaints.map((c) => c.previous), colour: COLOURS.previous, align: 1, size: 0.4 },
      ],
    );
  } else complaintBox.innerHTML = `<p class="muted">${esc(t('dash.noComplaints'))}</p>`;

  const kinds = Object.entries(report.byKind).sort((a, b) => b[1] - a[1]);
  const kindBox = root.querySelector('[data-chart="kinds"]');
  if (kinds.length) {
    barChart(
      kindBox,
      kinds.map(([kind]) => tOr(`kind.${kind}`, kind)),
      [{ label: t('dash.workOrders'), values: kinds.map(([, n]) => n), colour: COLOURS.kind, align: 0, size: 0.6 }],
    );
  } else kindBox.innerHTML = `<p class="muted">${esc(t('dash.noWorkOrders'))}</p>`;

  // One series per severity so the legend explains the colours; each code's bar sits in its own row.
  const byCode = report.alarms.byCode;
  const alarmBox = root.querySelector('[data-chart="alarms"]');
  if (byCode.length) {
    const codes = [...new Set(byCode.map((a) => a.code))];
    const severities = ['critical', 'major', 'minor', 'warning'].filter((s) => byCode.some((a) => a.severity === s));
    // Only a code raised at two severities needs its bars side by side; otherwise each row has one bar.
    const shared = codes.some((code) => byCode.filter((a) => a.code === code).length > 1);
    barChart(
      alarmBox,
      codes.map((code) => tOr(`alarm.${code}`, code)),
      severities.map((severity, s) => ({
        label: tOr(`severity.${severity}`, severity),
        values: codes.map((code) => {
          const row = byCode.find((a) => a.code === code && a.severity === severity);
          return row ? row.count : null;
        }),
        colour: COLOURS[severity],
        align: shared ? (s % 2 === 0 ? -1 : 1) : 0,
        size: shared ? 0.4 : 0.6,
      })),
    );
  } else alarmBox.innerHTML = `<p class="muted">${esc(t('dash.noAlarms'))}</p>`;
}

export function destroyCharts() {
  if (resizeObserver) resizeObserver.disconnect();
  resizeObserver = null;
  for (const { chart } of charts) chart.destroy();
  charts = [];
}

export function watchChartWidths() {
  resizeObserver = new ResizeObserver(() => {
    for (const { chart, el } of charts) {
      const width = Math.max(240, el.clientWidth);
      if (Math.abs(width - chart.width) > 2) chart.setSize({ width, height: chart.height });
    }
  });
  for (const { el } of charts) resizeObserver.observe(el);
}
