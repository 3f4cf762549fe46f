/**
 * The round report of one shift (巡逻班次报告) for supervisors and managers: per round the points done on
 * time, late, missed and abnormal, with the shift's totals — what GET /rounds/report says, drawn as it is.
 * Day shift 08:00–20:00, night 20:00–08:00 (the night belongs to the day it starts on).
 */

import { roundReport } from '../api.js';
import { esc, formatDateTime, siteTimeZone } from '../format.js';
import { refusal, t, tOr } from '../i18n.js';

const COUNTS = ['done', 'late', 'missed', 'abnormal', 'flagged'];

/** The shift going on now, in the site's time: {day: 'YYYY-MM-DD', shift: 'day' | 'night'}. */
function currentShift(now = new Date()) {
  const zone = siteTimeZone() || undefined;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hourCycle: 'h23' })
      .formatToParts(now)
      .map((p) => [p.type, p.value]),
  );
  const hour = Number(parts.hour);
  if (hour >= 8 && hour < 20) return { day: `${parts.year}-${parts.month}-${parts.day}`, shift: 'day' };
  if (hour >= 20) return { day: `${parts.year}-${parts.month}-${parts.day}`, shift: 'night' };
  return { ...currentShift(new Date(now.getTime() - 12 * 3600 * 1000)), shift: 'night' };
}

function countsHtml(counts, points) {
  return `<dl class="facts report-counts">
    ${points !== undefined ? `<dt>${esc(t('roundReport.points'))}</dt><dd data-count="points">${esc(points)}</dd>` : ''}
    ${COUNTS.filter((c) => c in counts).map((c) => `<dt>${esc(t(`roundReport.${c}`))}</dt><dd data-count="${c}" class="${c !== 'done' && counts[c] ? 'flags' : ''}">${esc(counts[c] || 0)}</dd>`).join('')}
  </dl>`;
}

async function draw(root, day, shift) {
  const box = root.querySelector('#report-body');
  box.innerHTML = `<p class="muted">${esc(t('app.loading'))}</p>`;
  let report;
  try {
    report = await roundReport({ day, shift });
  } catch (error) {
    box.innerHTML = `<p class="card form-error">${esc(refusal(error.problem) || error.message)}</p>`;
    return;
  }
  box.innerHTML = `<section class="card" id="report-totals"><h3>${esc(t('roundReport.totals'))}</h3>
      <p class="muted small">${esc(formatDateTime(report.start))} – ${esc(formatDateTime(report.end))}</p>
      ${countsHtml(report.totals, report.totals.points)}</section>
    ${
      report.rounds.length
        ? report.rounds
            .map(
              (r) => `<section class="card report-round" data-report-round="${esc(r.roundId)}">
          <h3>${esc(r.routeName)} <span class="badge">${esc(tOr(`rounds.status.${r.status}`, r.status))}</span></h3>
          <p class="muted small">${esc(formatDateTime(r.slotStart))}${r.walkedBy ? ` · ${esc(r.walkedBy)}` : ''}</p>
          ${countsHtml(r, r.points)}</section>`,
            )
            .join('')
        : `<p class="card muted">${esc(t('roundReport.none'))}</p>`
    }`;
}

/** #/rounds/report */
export async function render(root) {
  const now = currentShift();
  root.innerHTML = `<p><a href="#/rounds">${esc(t('app.back'))}</a></p>
    <h2>${esc(t('roundReport.title'))}</h2>
    <form class="card" id="report-form">
      <label for="report-day">${esc(t('roundReport.day'))}</label><input id="report-day" type="date" value="${esc(now.day)}" required>
      <label for="report-shift">${esc(t('roundReport.shift'))}</label>
      <select id="report-shift">${['day', 'night'].map((s) => `<option value="${s}" ${s === now.shift ? 'selected' : ''}>${esc(t(`roundReport.shift.${s}`))}</option>`).join('')}</select>
      <div class="actions"><button type="submit">${esc(t('roundReport.show'))}</button></div>
    </form>
    <div id="report-body"></div>`;
  root.querySelector('#report-form').addEventListener('submit', (event) => {
    event.preventDefault();
    draw(root, root.querySelector('#report-day').value, root.querySelector('#report-shift').value);
  });
  await draw(root, now.day, now.shift);
}
