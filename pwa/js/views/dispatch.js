/** The dispatch board: unassigned work, overdue work, and each technician's open jobs; assign from here. */

import { listWorkOrders, nextDeadline, unitLabel } from '../api.js';
import { countdown, esc } from '../format.js';
import { t, tOr } from '../i18n.js';
import { renderAssign } from './assign.js';

const CLOSED = new Set(['closed', 'cancelled']);
let timer = null;

function jobCard(job, withAssign) {
  const deadline = nextDeadline(job);
  return `<div class="card" data-job="${esc(job.id)}">
    <div class="row"><span class="badge p${esc(job.priority)}">P${esc(job.priority)}</span>
      <span class="badge">${esc(tOr(`kind.${job.kind}`, job.kind))}</span>
      <span class="badge">${esc(tOr(`status.${job.status}`, job.status))}</span></div>
    <div class="job-title">${esc(job.title)}</div>
    <div class="muted small">${esc(job.number || '')} · ${esc(unitLabel(job) || job.location || '')}</div>
    ${deadline ? `<div class="countdown" data-due="${esc(deadline.dueAt)}" data-clock="${esc(deadline.clock)}"></div>` : ''}
    ${withAssign ? `<div class="actions"><button type="button" class="secondary" data-open-assign="${esc(job.id)}">${esc(t('action.assign'))}</button></div><div data-assign-box></div>` : ''}
  </div>`;
}

function tick(root) {
  for (const el of root.querySelectorAll('[data-due]')) {
    const { overdue, text } = countdown(el.dataset.due);
    el.textContent = `${tOr(`clock.${el.dataset.clock}`, el.dataset.clock)} ${text}`;
    el.classList.toggle('overdue', overdue);
  }
}

/** Render the board. */
export async function render(root, params, ctx) {
  const site = ctx.user.siteIds[0];
  root.innerHTML = `<h2>${esc(t('dispatch.title'))}</h2><p class="muted">${esc(t('app.loading'))}</p>`;
  let open;
  let overdue;
  try {
    [open, overdue] = await Promise.all([listWorkOrders({ site }), listWorkOrders({ site, overdue: true })]);
  } catch {
    root.innerHTML = `<h2>${esc(t('dispatch.title'))}</h2><p class="card error">${esc(t('dispatch.unavailable'))}</p>`;
    return;
  }
  open = open.filter((j) => !CLOSED.has(j.status));
  const unassigned = open.filter((j) => !j.assigneeId);
  const byTech = new Map();
  for (const job of open.filter((j) => j.assigneeId)) {
    const name = job.assigneeName || (job.assignee && job.assignee.displayName) || job.assigneeId;
    if (!byTech.has(name)) byTech.set(name, []);
    byTech.get(name).push(job);
  }
  root.innerHTML = `<div class="row"><h2 class="grow">${esc(t('dispatch.title'))}</h2>
      <button type="button" class="secondary" id="refresh">${esc(t('app.refresh'))}</button></div>
    <div class="columns">
      <section id="unassigned"><h3>${esc(t('dispatch.unassigned'))} (${unassigned.length})</h3>
        ${unassigned.map((j) => jobCard(j, true)).join('') || `<p class="muted">${esc(t('dispatch.none'))}</p>`}</section>
      <section id="overdue"><h3>${esc(t('dispatch.overdue'))} (${overdue.length})</h3>
        ${overdue.map((j) => jobCard(j, true)).join('') || `<p class="muted">${esc(t('dispatch.none'))}</p>`}</section>
      <section id="by-technician"><h3>${esc(t('dispatch.byTechnician'))}</h3>
        ${[...byTech.entries()].map(([name, jobs]) => `<h4>${esc(name)} (${jobs.length})</h4>${jobs.map((j) => jobCard(j, false)).join('')}`).join('') || `<p class="muted">${esc(t('dispatch.none'))}</p>`}</section>
    </div>`;
  root.querySelector('#refresh').addEventListener('click', () => render(root, params, ctx));
  for (const button of root.querySelectorAll('[data-open-assign]')) {
    button.addEventListener('click', () => {
      const box = button.closest('[data-job]').querySelector('[data-assign-box]');
      button.classList.add('hidden');
      renderAssign(box, button.dataset.openAssign, site, (result) => {
        if (result.state === 'conflict') ctx.refreshConflicts();
        render(root, params, ctx);
      });
    });
  }
  tick(root);
  clearInterval(timer);
  timer = setInterval(() => tick(root), 1000);
}

/** Stop the countdown timer. */
export function unmount() {
  clearInterval(timer);
}
