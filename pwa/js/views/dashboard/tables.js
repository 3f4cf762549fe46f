/** The dashboard's tables: complaints against the previous period, each technician, the overdue list. */

import { countdown, esc } from '../../format.js';
import { currentLocale, label, t, tOr } from '../../i18n.js';
import { duration, number, percent, percentSigned } from './numbers.js';

export function complaintTrend(report) {
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

export function technicianTable(report) {
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

/**
 * The report's own overdue list (the same query as the overdue tile, most overdue first), each job linked to
 * its detail; when the tile counts more than the list shows, it says how many more and where they are.
 */
export function overdueList(now) {
  const jobs = now.overdueList || [];
  if (!jobs.length) return `<p class="muted">${esc(t('dash.noOverdue'))}</p>`;
  const items = jobs
    .map((job) => {
      const late = countdown(job.dueAt);
      const priority = label('priority', job.priority);
      return `<li class="job-item p${esc(String(job.priority).replace(/^P/, ''))}"><a href="#/job/${esc(job.id)}" data-overdue-job="${esc(job.id)}">
        <div class="row"><span class="badge p${esc(String(job.priority).replace(/^P/, ''))}">${esc(priority)}</span>
          <span class="badge">${esc(label('kind', job.kind))}</span>
          <span class="badge">${esc(label('status', job.status))}</span>
          <span class="muted small">${esc(job.number)}</span></div>
        <div class="job-title">${esc(job.title)}</div>
        <div class="countdown overdue">${esc(label('clock', job.clock))} ${esc(late.text)}</div>
        <div class="muted small">${esc(job.assigneeName || t('dash.unassigned'))}</div>
      </a></li>`;
    })
    .join('');
  const more = now.overdue > jobs.length
    ? `<p class="muted small" id="dash-overdue-more">${esc(t('dash.overdueMore', { shown: number(jobs.length), total: number(now.overdue) }))} <a href="#/dispatch">${esc(t('nav.dispatch'))}</a></p>`
    : '';
  return `<ul class="job-list" id="dash-overdue-list">${items}</ul>${more}`;
}
