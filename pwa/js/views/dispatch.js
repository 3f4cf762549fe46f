/**
 * The dispatch board: unassigned work, overdue work, and each technician's open jobs. A card opens the job;
 * from the card the desk assigns (suggestions with their reasons) or, where the server allows it, cancels a
 * duplicate with a reason.
 */

import { listWorkOrders, nextDeadline, unitLabel, workOrderAction } from '../api.js';
import { countdown, esc } from '../format.js';
import { label, refusal, t } from '../i18n.js';
import { renderAssign } from './assign.js';

const CLOSED = new Set(['closed', 'cancelled']);
// One page of the most urgent first is what a desk can work through; the count says when there is more.
const BOARD_LIMIT = 200;
let timer = null;

/** The badge class of a priority code: "P1" → "p1" (the stylesheet colours p1 and p2). */
function priorityClass(code) {
  return `p${String(code || '').replace(/^P/, '')}`;
}

function jobCard(job, withAssign) {
  const deadline = nextDeadline(job);
  const canCancel = (job.allowedActions || []).includes('cancel');
  const canAssign = withAssign && (job.allowedActions || []).includes('assign');
  return `<div class="card board-card" data-job="${esc(job.id)}">
    <a class="card-link" href="#/job/${esc(job.id)}" data-open-job="${esc(job.id)}">
      <div class="row"><span class="badge ${priorityClass(job.priority)}">${esc(label('priority', job.priority))}</span>
        <span class="badge">${esc(label('kind', job.kind))}</span>
        <span class="badge">${esc(label('status', job.status))}</span></div>
      <div class="job-title">${esc(job.title)}</div>
      <div class="muted small">${esc(job.number || '')} · ${esc(unitLabel(job) || job.location || '')}</div>
      ${job.complainedAboutName ? `<div class="muted small">${esc(t('dispatch.complainedAbout', { name: job.complainedAboutName }))}</div>` : ''}
      ${deadline ? `<div class="countdown" data-due="${esc(deadline.dueAt)}" data-clock="${esc(deadline.clock)}"></div>` : ''}
    </a>
    ${canAssign || canCancel ? `<div class="actions">
      ${canAssign ? `<button type="button" class="secondary" data-open-assign="${esc(job.id)}">${esc(label('action', 'assign'))}</button>` : ''}
      ${canCancel ? `<button type="button" class="secondary" data-open-cancel="${esc(job.id)}">${esc(t('dispatch.cancelDuplicate'))}</button>` : ''}
    </div>` : ''}
    <div data-assign-box></div>
    ${canCancel ? `<form class="cancel-form" data-cancel-form hidden>
      <label for="cancel-reason-${esc(job.id)}">${esc(t('dispatch.cancelReason'))}</label>
      <input id="cancel-reason-${esc(job.id)}" data-cancel-reason maxlength="500" placeholder="${esc(t('dispatch.cancelReasonExample'))}">
      <p class="form-error" data-cancel-error role="alert" hidden></p>
      <div class="row"><button type="submit" class="danger" data-confirm-cancel>${esc(label('action', 'cancel'))}</button>
        <button type="button" class="secondary" data-keep>${esc(t('dispatch.back'))}</button></div>
    </form>` : ''}
  </div>`;
}

function tick(root) {
  for (const el of root.querySelectorAll('[data-due]')) {
    const { overdue, text } = countdown(el.dataset.due);
    el.textContent = `${label('clock', el.dataset.clock)} ${text}`;
    el.classList.toggle('overdue', overdue);
  }
}

function column(id, title, jobs, withAssign) {
  return `<section id="${id}"><h3>${esc(title)} (${jobs.length})</h3>
    ${jobs.map((j) => jobCard(j, withAssign)).join('') || `<p class="muted">${esc(t('dispatch.none'))}</p>`}</section>`;
}

function wireCancel(card, id, ctx, reload) {
  const form = card.querySelector('[data-cancel-form]');
  card.querySelector('[data-open-cancel]').addEventListener('click', () => {
    form.hidden = false;
    form.querySelector('[data-cancel-reason]').focus();
  });
  form.querySelector('[data-keep]').addEventListener('click', () => {
    form.hidden = true;
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const error = form.querySelector('[data-cancel-error]');
    const reason = form.querySelector('[data-cancel-reason]').value.trim();
    if (!reason) {
      error.textContent = t('dispatch.cancelReasonRequired');
      error.hidden = false;
      return;
    }
    form.querySelector('[data-confirm-cancel]').disabled = true;
    const result = await workOrderAction(id, 'cancel', { reason });
    if (result.state === 'conflict') {
      error.textContent = refusal(result.conflict);
      error.hidden = false;
      form.querySelector('[data-confirm-cancel]').disabled = false;
      ctx.refreshConflicts();
      return;
    }
    reload();
  });
}

/** Render the board. */
export async function render(root, params, ctx) {
  const site = ctx.user.siteIds[0];
  root.innerHTML = `<h2>${esc(t('dispatch.title'))}</h2><p class="muted">${esc(t('app.loading'))}</p>`;
  let open;
  let overdue;
  try {
    [open, overdue] = await Promise.all([
      listWorkOrders({ site, limit: BOARD_LIMIT }),
      listWorkOrders({ site, overdue: true, limit: BOARD_LIMIT }),
    ]);
  } catch {
    root.innerHTML = `<h2>${esc(t('dispatch.title'))}</h2><p class="card error">${esc(t('dispatch.unavailable'))}</p>`;
    return;
  }
  open = open.filter((j) => !CLOSED.has(j.status));
  const unassigned = open.filter((j) => !j.assigneeId);
  const byTech = new Map();
  for (const job of open.filter((j) => j.assigneeId)) {
    const name = job.assigneeName || job.assigneeId;
    if (!byTech.has(name)) byTech.set(name, []);
    byTech.get(name).push(job);
  }
  root.innerHTML = `<div class="row"><h2 class="grow">${esc(t('dispatch.title'))}</h2>
      <button type="button" class="secondary" id="refresh">${esc(t('app.refresh'))}</button></div>
    <div class="columns board">
      ${column('unassigned', t('dispatch.unassigned'), unassigned, true)}
      ${column('overdue', t('dispatch.overdue'), overdue, true)}
      <section id="by-technician"><h3>${esc(t('dispatch.byTechnician'))}</h3>
        ${[...byTech.entries()].map(([name, jobs]) => `<h4>${esc(name)} (${jobs.length})</h4>${jobs.map((j) => jobCard(j, false)).join('')}`).join('') || `<p class="muted">${esc(t('dispatch.none'))}</p>`}</section>
    </div>`;
  const reload = () => render(root, params, ctx);
  const jobs = new Map([...open, ...overdue].map((j) => [j.id, j]));
  root.querySelector('#refresh').addEventListener('click', reload);
  for (const button of root.querySelectorAll('[data-open-assign]')) {
    button.addEventListener('click', () => {
      const box = button.closest('[data-job]').querySelector('[data-assign-box]');
      button.hidden = true;
      renderAssign(box, jobs.get(button.dataset.openAssign), site, (result) => {
        if (result.state === 'conflict') {
          ctx.refreshConflicts();
          return;
        }
        reload();
      });
    });
  }
  for (const card of root.querySelectorAll('[data-job]')) {
    if (card.querySelector('[data-open-cancel]')) wireCancel(card, card.dataset.job, ctx, reload);
  }
  tick(root);
  clearInterval(timer);
  timer = setInterval(() => tick(root), 1000);
}

/** Stop the countdown timer. */
export function unmount() {
  clearInterval(timer);
}
