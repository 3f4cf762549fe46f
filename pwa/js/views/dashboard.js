/**
 * The manager's dashboard: KPI tiles, charts (uPlot), each technician's workload and results, and the
 * overdue list, for one site and a period of whole site-local days (docs/REPORTS.md defines every number).
 */

import uPlot from '../../vendor/uplot/uPlot.esm.js';
import { kpiReport, listSites, listWorkOrders } from '../api.js';
import { esc, formatDateTime, SITE_TIME_ZONE } from '../format.js';
import { currentLocale, t, tOr } from '../i18n.js';

// The choice survives a trip to a job and back (per tab, like the rest of the session's navigation).
const STORAGE_KEY = 'caretaker.dashboard';
const PRESET_DAYS = [7, 30, 90];
const DEFAULT_DAYS = 30;
// Complaints must all be called back within 3 days (DOMAIN.md): anything under 100 % is flagged.
const COMPLAINT_CALLBACK_TARGET = 1;
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
// A slow answer for an earlier choice must not overwrite the one the manager is looking at.
let loadSeq = 0;

// ---- formatting (Intl, in the interface's language) ----

function percent(rate) {
  if (rate === null || rate === undefined) return '—';
  return new Intl.NumberFormat(currentLocale(), { style: 'percent', maximumFractionDigits: 1 }).format(rate);
}

function number(value, digits = 0) {
  if (value === null || value === undefined) return '—';
  return new Intl.NumberFormat(currentLocale(), { maximumFractionDigits: digits }).format(value);
}

function unit(value, name, digits) {
  return new Intl.NumberFormat(currentLocale(), {
    style: 'unit',
    unit: name,
    unitDisplay: 'short',
    maximumFractionDigits: digits,
  }).format(value);
}

/** Minutes in the unit a person reads at a glance: minutes up to 1.5 h, hours up to 2 days, then days. */
function duration(minutes) {
  if (minutes === null || minutes === undefined) return '—';
  if (minutes < 90) return unit(minutes, 'minute', minutes < 10 ? 1 : 0);
  if (minutes < 48 * 60) return unit(minutes / 60, 'hour', 1);
  return unit(minutes / 1440, 'day', 1);
}

function seconds(value) {
  if (value === null || value === undefined) return '—';
  return value < 120 ? unit(value, 'second', 1) : duration(value / 60);
}

function dayLabel(isoDay) {
  const [y, m, d] = isoDay.split('-').map(Number);
  return new Intl.DateTimeFormat(currentLocale(), { timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric' }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

// ---- the period ----

/** Today's date (YYYY-MM-DD) in a time zone. */
function todayIn(timeZone) {
  // en-CA formats dates as ISO YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}

function addDays(isoDay, days) {
  const [y, m, d] = isoDay.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

function daysBetween(fromDay, toDay) {
  return Math.round((Date.parse(`${toDay}T00:00:00Z`) - Date.parse(`${fromDay}T00:00:00Z`)) / 86400000);
}

/** from/to of a choice: the last N days up to today at the site, or the custom dates as given. */
function periodOf(choice, site) {
  if (choice.preset === 'custom') return { from: choice.from, to: choice.to };
  const to = todayIn((site && site.timezone) || SITE_TIME_ZONE);
  return { from: addDays(to, 1 - choice.preset), to };
}

function savedChoice(sites) {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');
    if (saved && sites.some((s) => s.id === saved.site)) return saved;
  } catch {
    // A damaged entry is simply forgotten.
  }
  return { site: sites[0].id, preset: DEFAULT_DAYS, from: '', to: '' };
}

// ---- tiles ----

function tile(key, label, value, lines = [], tone = '') {
  return `<div class="kpi-tile ${tone}" data-kpi="${key}">
    <div class="kpi-label">${esc(label)}</div>
    <div class="kpi-value" data-value>${esc(value)}</div>
    ${lines.map((line) => `<div class="kpi-sub">${esc(line)}</div>`).join('')}
  </div>`;
}

function rateTone(rate, target = null) {
  if (rate === null || rate === undefined) return 'empty';
  if (target !== null) return rate >= target ? 'good' : 'bad';
  if (rate >= 0.9) return 'good';
  return rate >= 0.7 ? 'fair' : 'bad';
}

function stepTile(key, label, step) {
  return tile(
    key,
    label,
    percent(step.onTimeRate),
    [
      t('dash.onTimeOf', { onTime: number(step.onTime), due: number(step.due) }),
      t('dash.median', { value: duration(step.medianMinutes) }),
      t('dash.p90', { value: duration(step.p90Minutes) }),
    ],
    rateTone(step.onTimeRate),
  );
}

function tiles(report) {
  const { callback, satisfaction, reopen, alarms, now } = report;
  return [
    stepTile('response', t('dash.response'), report.response),
    stepTile('arrival', t('dash.arrival'), report.arrival),
    stepTile('resolution', t('dash.resolution'), report.resolution),
    tile(
      'callback',
      t('dash.callback'),
      percent(callback.onTimeRate),
      [t('dash.onTimeOf', { onTime: number(callback.onTime), due: number(callback.due) })],
      rateTone(callback.onTimeRate),
    ),
    tile(
      'complaintCallback',
      t('dash.complaintCallback'),
      percent(callback.complaintRate),
      [
        t('dash.target', { target: percent(COMPLAINT_CALLBACK_TARGET) }),
        t('dash.calledOf', { called: number(callback.complaintsCalledInTime), due: number(callback.complaintsDue) }),
      ],
      rateTone(callback.complaintRate, COMPLAINT_CALLBACK_TARGET),
    ),
    tile(
      'satisfaction',
      t('dash.satisfaction'),
      satisfaction.average === null ? '—' : t('dash.outOfFive', { value: number(satisfaction.average, 2) }),
      [
        t('dash.satisfiedShare', { share: percent(satisfaction.satisfiedShare) }),
        t('dash.ratings', { count: number(satisfaction.ratings) }),
      ],
      satisfaction.average === null ? 'empty' : rateTone(satisfaction.satisfiedShare),
    ),
    tile(
      'reopen',
      t('dash.reopen'),
      percent(reopen.rate),
      [t('dash.reopenedOf', { reopened: number(reopen.reopened), completed: number(reopen.completed) })],
      reopen.rate === null ? 'empty' : reopen.rate > 0.05 ? 'bad' : 'good',
    ),
    tile('total', t('dash.total'), number(report.total), [t('dash.inPeriod')]),
    tile('open', t('dash.openNow'), number(now.open), [t('dash.rightNow')]),
    tile('overdue', t('dash.overdueNow'), number(now.overdue), [t('dash.rightNow')], now.overdue > 0 ? 'bad' : 'good'),
    tile(
      'alarms',
      t('dash.alarms'),
      number(alarms.total),
      [t('dash.unacknowledged', { count: number(alarms.unacknowledged) })],
      alarms.unacknowledged > 0 ? 'bad' : alarms.total ? 'good' : 'empty',
    ),
    tile(
      'alarmAck',
      t('dash.alarmAck'),
      seconds(alarms.ackP50Seconds),
      [
        t('dash.p95', { value: seconds(alarms.ackP95Seconds) }),
        t('dash.ackedOf', { acked: number(alarms.acknowledged), total: number(alarms.total) }),
      ],
      alarms.unacknowledged > 0 ? 'fair' : alarms.total ? 'good' : 'empty',
    ),
  ].join('');
}

// ---- charts (uPlot horizontal bars: long category names stay readable on a phone) ----

function ensureChartStyles() {
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

function chartCard(key, title, caption) {
  return `<section class="card dash-chart" data-chart-card="${key}">
    <h3>${esc(title)}</h3>
    ${caption ? `<p class="muted small">${esc(caption)}</p>` : ''}
    <div class="chart" data-chart="${key}"></div>
  </section>`;
}

function drawCharts(root, report) {
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

function destroyCharts() {
  if (resizeObserver) resizeObserver.disconnect();
  resizeObserver = null;
  for (const { chart } of charts) chart.destroy();
  charts = [];
}

function watchChartWidths() {
  resizeObserver = new ResizeObserver(() => {
    for (const { chart, el } of charts) {
      const width = Math.max(240, el.clientWidth);
      if (Math.abs(width - chart.width) > 2) chart.setSize({ width, height: chart.height });
    }
  });
  for (const { el } of charts) resizeObserver.observe(el);
}

// ---- tables ----

function complaintTrend(report) {
  const rows = report.complaints.byCategory
    .map((c) => {
      const tone = c.change > 0 ? 'up' : c.change < 0 ? 'down' : '';
      const signed = new Intl.NumberFormat(currentLocale(), { signDisplay: 'exceptZero' });
      const rate = c.changeRate === null ? t('dash.new') : percentSigned(c.changeRate);
      return `<tr data-category="${esc(c.category)}"><th scope="row">${esc(tOr(`category.${c.category}`, c.category))}</th>
        <td>${esc(number(c.count))}</td><td>${esc(number(c.previous))}</td>
        <td class="trend ${tone}">${esc(signed.format(c.change))} (${esc(rate)})</td></tr>`;
    })
    .join('');
  if (!rows) return '';
  return `<div class="table-scroll"><table class="dash-table" id="dash-complaint-trend">
    <thead><tr><th scope="col">${esc(t('dash.category'))}</th><th scope="col">${esc(t('dash.thisPeriod'))}</th>
      <th scope="col">${esc(t('dash.previousPeriod'))}</th><th scope="col">${esc(t('dash.change'))}</th></tr></thead>
    <tbody>${rows}</tbody></table></div>`;
}

function percentSigned(rate) {
  return new Intl.NumberFormat(currentLocale(), { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(rate);
}

function technicianTable(report) {
  if (!report.technicians.length) return `<p class="muted">${esc(t('dash.noTechnicians'))}</p>`;
  const head = [
    'dash.tech.name',
    'dash.tech.openNow',
    'dash.tech.overdueNow',
    'dash.tech.assigned',
    'dash.tech.completed',
    'dash.tech.arrivalOnTime',
    'dash.tech.resolutionOnTime',
    'dash.tech.medianResolution',
    'dash.tech.satisfaction',
    'dash.tech.reopened',
  ];
  const rows = report.technicians
    .map(
      (tech) => `<tr data-tech="${esc(tech.username)}">
        <th scope="row">${esc(tech.displayName)}</th>
        <td data-col="openNow">${esc(number(tech.openNow))}</td>
        <td data-col="overdueNow" class="${tech.overdueNow > 0 ? 'alert' : ''}">${esc(number(tech.overdueNow))}</td>
        <td data-col="assigned">${esc(number(tech.assigned))}</td>
        <td data-col="completed">${esc(number(tech.completed))}</td>
        <td data-col="arrival">${esc(percent(tech.arrivalOnTimeRate))} <span class="muted">(${esc(number(tech.arrivalDue))})</span></td>
        <td data-col="resolution">${esc(percent(tech.resolutionOnTimeRate))} <span class="muted">(${esc(number(tech.resolutionDue))})</span></td>
        <td data-col="medianResolution">${esc(duration(tech.medianResolutionMinutes))}</td>
        <td data-col="satisfaction">${esc(number(tech.satisfactionAverage, 2))} <span class="muted">(${esc(number(tech.ratings))})</span></td>
        <td data-col="reopened">${esc(number(tech.reopened))}</td>
      </tr>`,
    )
    .join('');
  return `<div class="table-scroll"><table class="dash-table sticky-first" id="dash-technicians">
    <thead><tr>${head.map((key) => `<th scope="col">${esc(t(key))}</th>`).join('')}</tr></thead>
    <tbody>${rows}</tbody></table></div>
    <p class="muted small">${esc(t('dash.tech.note'))}</p>`;
}

/** The clock of a job that has been overdue longest: {clock, dueAt} or null. */
function mostOverdueClock(job, nowMs) {
  const late = (job.clocks || []).filter((c) => !c.metAt && !c.pausedSince && new Date(c.dueAt).getTime() < nowMs);
  late.sort((a, b) => new Date(a.dueAt) - new Date(b.dueAt));
  return late[0] || null;
}

function overdueList(jobs) {
  if (!jobs.length) return `<p class="muted">${esc(t('dash.noOverdue'))}</p>`;
  const nowMs = Date.now();
  const items = jobs
    .map((job) => {
      const clock = mostOverdueClock(job, nowMs);
      const late = clock ? t('time.overdue', { time: duration((nowMs - new Date(clock.dueAt).getTime()) / 60000) }) : '';
      return `<li class="job-item p${esc(job.priority)}"><a href="#/job/${esc(job.id)}" data-overdue-job="${esc(job.id)}">
        <div class="row"><span class="badge p${esc(job.priority)}">P${esc(job.priority)}</span>
          <span class="badge">${esc(tOr(`kind.${job.kind}`, job.kind))}</span>
          <span class="badge">${esc(tOr(`status.${job.status}`, job.status))}</span>
          <span class="muted small">${esc(job.number)}</span></div>
        <div class="job-title">${esc(job.title)}</div>
        <div class="countdown overdue">${clock ? `${esc(tOr(`clock.${clock.clock}`, clock.clock))} ${esc(late)}` : ''}</div>
        <div class="muted small">${esc(job.assigneeName || t('dash.unassigned'))}</div>
      </a></li>`;
    })
    .join('');
  return `<ul class="job-list" id="dash-overdue-list">${items}</ul>`;
}

// ---- the screen ----

function filters(sites, choice) {
  const siteOptions = sites
    .map((s) => `<option value="${esc(s.id)}" ${s.id === choice.site ? 'selected' : ''}>${esc(s.name || s.code)}</option>`)
    .join('');
  const presets = [...PRESET_DAYS, 'custom']
    .map((p) => {
      const label = p === 'custom' ? t('dash.custom') : t('dash.lastDays', { days: p });
      return `<button type="button" data-preset="${p}" aria-pressed="${String(p === choice.preset)}">${esc(label)}</button>`;
    })
    .join('');
  return `<section class="card dash-filters">
    <div class="dash-filter-row">
      <label class="dash-site"><span>${esc(t('dash.site'))}</span>
        <select id="dash-site" ${sites.length < 2 ? 'disabled' : ''}>${siteOptions}</select></label>
      <div class="dash-period"><span class="dash-period-label">${esc(t('dash.period'))}</span>
        <div class="tabs" role="group" aria-label="${esc(t('dash.period'))}">${presets}</div></div>
    </div>
    <form id="dash-custom" class="dash-custom" ${choice.preset === 'custom' ? '' : 'hidden'}>
      <label><span>${esc(t('dash.from'))}</span><input type="date" id="dash-from" required value="${esc(choice.from)}"></label>
      <label><span>${esc(t('dash.to'))}</span><input type="date" id="dash-to" required value="${esc(choice.to)}"></label>
      <button type="submit" id="dash-apply">${esc(t('dash.apply'))}</button>
    </form>
    <p class="form-error" id="dash-filter-error" role="alert" hidden></p>
  </section>`;
}

function body(report, overdueJobs) {
  const { period } = report;
  return `<p class="muted small" id="dash-period-summary">${esc(
    t('dash.periodSummary', {
      site: report.site.name,
      from: dayLabel(period.fromDate),
      to: dayLabel(period.toDate),
      days: number(daysBetween(period.fromDate, period.toDate) + 1),
      at: formatDateTime(report.generatedAt),
    }),
  )}</p>
    <div class="kpi-grid" id="dash-tiles">${tiles(report)}</div>
    <div class="dash-charts">
      ${chartCard('complaints', t('dash.chart.complaints'), t('dash.complaintTotals', { count: number(report.complaints.total), previous: number(report.complaints.previousTotal) }))}
      ${chartCard('kinds', t('dash.chart.kinds'), t('dash.kindTotal', { count: number(report.total) }))}
      ${chartCard('alarms', t('dash.chart.alarms'), t('dash.alarmTotal', { count: number(report.alarms.total) }))}
    </div>
    <section class="card" id="dash-technicians-card"><h3>${esc(t('dash.technicians'))}</h3>${technicianTable(report)}</section>
    <div class="dash-lower">
      <section class="card" id="dash-overdue"><h3>${esc(t('dash.overdueList'))} (${esc(number(report.now.overdue))})</h3>
        ${overdueList(overdueJobs)}</section>
      <section class="card" id="dash-trend-card"><h3>${esc(t('dash.trend'))}</h3>
        ${complaintTrend(report) || `<p class="muted">${esc(t('dash.noComplaints'))}</p>`}</section>
    </div>`;
}

async function load(root, sites, choice) {
  const seq = ++loadSeq;
  const site = sites.find((s) => s.id === choice.site);
  const out = root.querySelector('#dash-body');
  const { from, to } = periodOf(choice, site);
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(choice));
  out.setAttribute('aria-busy', 'true');
  let report;
  let overdueJobs;
  try {
    [report, overdueJobs] = await Promise.all([
      kpiReport({ site: choice.site, from, to }),
      listWorkOrders({ site: choice.site, overdue: true }),
    ]);
  } catch (error) {
    if (seq !== loadSeq) return;
    destroyCharts();
    const detail = error.status && error.status < 500 && error.problem.detail ? error.problem.detail : '';
    out.innerHTML = `<p class="card error" id="dash-error">${esc(t('dash.unavailable'))}${detail ? `<br><span class="small">${esc(detail)}</span>` : ''}</p>`;
    out.removeAttribute('aria-busy');
    return;
  }
  if (seq !== loadSeq) return;
  destroyCharts();
  out.innerHTML = body(report, overdueJobs);
  drawCharts(out, report);
  watchChartWidths();
  out.removeAttribute('aria-busy');
  out.dataset.loaded = `${report.site.id}:${report.period.fromDate}:${report.period.toDate}`;
}

/** Render the dashboard for the remembered (or first) site and the last 30 days. */
export async function render(root, params, ctx) {
  ensureChartStyles();
  root.classList.add('dashboard-view');
  root.innerHTML = `<h2>${esc(t('dash.title'))}</h2><p class="muted">${esc(t('app.loading'))}</p>`;
  let sites;
  try {
    sites = await listSites();
  } catch {
    // The registry is unreachable: the user's own site ids still let the report load.
    sites = ctx.user.siteIds.map((id) => ({ id, code: id, name: id, timezone: SITE_TIME_ZONE }));
  }
  if (!sites.length) {
    root.innerHTML = `<h2>${esc(t('dash.title'))}</h2><p class="card">${esc(t('dash.noSites'))}</p>`;
    return;
  }
  const choice = savedChoice(sites);
  root.innerHTML = `<div class="row"><h2 class="grow">${esc(t('dash.title'))}</h2>
      <button type="button" class="secondary" id="dash-refresh">${esc(t('app.refresh'))}</button></div>
    ${filters(sites, choice)}
    <div id="dash-body"><p class="muted">${esc(t('app.loading'))}</p></div>`;

  const customForm = root.querySelector('#dash-custom');
  const error = root.querySelector('#dash-filter-error');
  const showError = (message) => {
    error.textContent = message;
    error.hidden = !message;
  };
  root.querySelector('#dash-site').addEventListener('change', (event) => {
    choice.site = event.target.value;
    load(root, sites, choice);
  });
  for (const button of root.querySelectorAll('[data-preset]')) {
    button.addEventListener('click', () => {
      const preset = button.dataset.preset === 'custom' ? 'custom' : Number(button.dataset.preset);
      for (const other of root.querySelectorAll('[data-preset]')) other.setAttribute('aria-pressed', String(other === button));
      customForm.hidden = preset !== 'custom';
      showError('');
      if (preset === 'custom') {
        // Start from the period on screen so adjusting one end is a single change.
        const shown = periodOf(choice, sites.find((s) => s.id === choice.site));
        root.querySelector('#dash-from').value ||= shown.from;
        root.querySelector('#dash-to').value ||= shown.to;
        root.querySelector('#dash-from').focus();
        return;
      }
      choice.preset = preset;
      load(root, sites, choice);
    });
  }
  customForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const from = root.querySelector('#dash-from').value;
    const to = root.querySelector('#dash-to').value;
    if (!from || !to) {
      showError(t('dash.datesRequired'));
      return;
    }
    if (to < from) {
      showError(t('dash.toBeforeFrom'));
      root.querySelector('#dash-to').focus();
      return;
    }
    showError('');
    Object.assign(choice, { preset: 'custom', from, to });
    load(root, sites, choice);
  });
  root.querySelector('#dash-refresh').addEventListener('click', () => load(root, sites, choice));
  await load(root, sites, choice);
}

/** Free the charts and the wide layout when leaving the screen. */
export function unmount() {
  destroyCharts();
  loadSeq += 1;
  document.getElementById('view').classList.remove('dashboard-view');
}
