/**
 * The manager's dashboard: KPI tiles, charts (uPlot), each technician's workload and results, and the
 * overdue list, for one site and a period of whole site-local days (docs/REPORTS.md defines every number);
 * the work orders of the period and site on screen download as CSV. Tiles, charts and tables live in
 * views/dashboard/; this module is the screen: filters, loading, the download.
 */

import { kpiReport, listSites, workOrdersCsv } from '../api.js';
import { esc, formatDateTime, siteTimeZone } from '../format.js';
import { currentLocale, t } from '../i18n.js';
import { chartCard, destroyCharts, drawCharts, ensureChartStyles, watchChartWidths } from './dashboard/charts.js';
import { dayLabel, number } from './dashboard/numbers.js';
import { daysBetween, periodOf, PRESET_DAYS, rememberChoice, savedChoice } from './dashboard/period.js';
import { complaintTrend, overdueList, technicianTable } from './dashboard/tables.js';
import { tiles } from './dashboard/tiles.js';
import { mountEscalated, unmountEscalated } from './dashboard/escalated.js';
import { mountHazardCounts } from './dashboard/hazards.js';
import { mountDrillsDue } from './dashboard/drills.js';

// A slow answer for an earlier choice must not overwrite the one the manager is looking at.
let loadSeq = 0;

/** The work orders created in the period on screen, at the site on screen, as a CSV file (Excel-ready). */
async function downloadCsv(root, sites, choice) {
  const note = root.querySelector('#dash-csv-note');
  const button = root.querySelector('#dash-csv');
  const { from, to } = periodOf(choice, sites.find((s) => s.id === choice.site));
  button.disabled = true;
  note.hidden = false;
  note.textContent = t('dash.csvPreparing');
  try {
    const { blob, filename } = await workOrdersCsv({ site: choice.site, from, to, lang: currentLocale() === 'en' ? 'en' : 'zh' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = filename;
    document.body.append(link);
    link.click();
    link.remove();
    // The browser has the file once the click is handled; the URL only has to outlive that.
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    note.textContent = t('dash.csvDone', { file: filename });
  } catch {
    note.textContent = t('dash.csvFailed');
  } finally {
    button.disabled = false;
  }
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

function body(report) {
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
        ${overdueList(report.now)}</section>
      <section class="card" id="dash-trend-card"><h3>${esc(t('dash.trend'))}</h3>
        ${complaintTrend(report) || `<p class="muted">${esc(t('dash.noComplaints'))}</p>`}</section>
    </div>`;
}

async function load(root, sites, choice) {
  const seq = ++loadSeq;
  const site = sites.find((s) => s.id === choice.site);
  const out = root.querySelector('#dash-body');
  const { from, to } = periodOf(choice, site);
  rememberChoice(choice);
  out.setAttribute('aria-busy', 'true');
  let report;
  try {
    report = await kpiReport({ site: choice.site, from, to });
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
  out.innerHTML = body(report);
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
    sites = ctx.user.siteIds.map((id) => ({ id, code: id, name: id, timezone: siteTimeZone() }));
  }
  if (!sites.length) {
    root.innerHTML = `<h2>${esc(t('dash.title'))}</h2><p class="card">${esc(t('dash.noSites'))}</p>`;
    return;
  }
  const choice = savedChoice(sites);
  root.innerHTML = `<div class="row"><h2 class="grow">${esc(t('dash.title'))}</h2>
      <button type="button" class="secondary" id="dash-csv">${esc(t('dash.csv'))}</button>
      <button type="button" class="secondary" id="dash-refresh">${esc(t('app.refresh'))}</button></div>
    <p class="muted small" id="dash-csv-note" role="status" aria-live="polite" hidden></p>
    <section class="card" id="dash-escalated"></section>
    <section class="card" id="dash-hazards"></section>
    <section class="card" id="dash-drills"></section>
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
    mountEscalated(root.querySelector('#dash-escalated'), choice.site);
    mountHazardCounts(root.querySelector('#dash-hazards'), choice.site);
    mountDrillsDue(root.querySelector('#dash-drills'), choice.site);
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
  root.querySelector('#dash-csv').addEventListener('click', () => downloadCsv(root, sites, choice));
  await Promise.all([
    mountEscalated(root.querySelector('#dash-escalated'), choice.site),
    mountHazardCounts(root.querySelector('#dash-hazards'), choice.site),
    mountDrillsDue(root.querySelector('#dash-drills'), choice.site),
    load(root, sites, choice),
  ]);
}

/** Free the charts when leaving the screen. */
export function unmount() {
  unmountEscalated();
  destroyCharts();
  loadSeq += 1;
}
