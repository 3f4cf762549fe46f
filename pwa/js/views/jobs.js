/** My jobs: the technician's open work orders, most urgent first, each with a live countdown. */

import { afterQueued, listWorkOrders, nextDeadline, unitLabel } from '../api.js';
import { countdown, esc } from '../format.js';
import { t, tOr } from '../i18n.js';
import { openLiveStream } from '../live.js';
import { pendingEntries } from '../outbox.js';

const CLOSED = new Set(['closed', 'cancelled']);
let timer = null;
let source = null;
let refresh = null;

/** Most urgent first: priority, then the nearest deadline, then the oldest. */
export function byUrgency(a, b) {
  if (a.priority !== b.priority) return a.priority - b.priority;
  const da = nextDeadline(a);
  const db = nextDeadline(b);
  const ta = da ? new Date(da.dueAt).getTime() : Infinity;
  const tb = db ? new Date(db.dueAt).getTime() : Infinity;
  if (ta !== tb) return ta - tb;
  return new Date(a.createdAt || 0) - new Date(b.createdAt || 0);
}

function tick(root) {
  for (const el of root.querySelectorAll('[data-due]')) {
    const { overdue, text } = countdown(el.dataset.due);
    el.textContent = `${tOr(`clock.${el.dataset.clock}`, el.dataset.clock)} ${text}`;
    el.classList.toggle('overdue', overdue);
  }
}

/** Render the list (from the network, or the service worker's cache when offline). */
export async function render(root) {
  root.innerHTML = `<h2>${esc(t('jobs.title'))}</h2><p class="muted">${esc(t('app.loading'))}</p>`;
  let jobs;
  try {
    jobs = await listWorkOrders({ assignee: 'me' });
  } catch (error) {
    root.innerHTML = `<h2>${esc(t('jobs.title'))}</h2><p class="card error">${esc(navigator.onLine ? t('jobs.failed') : t('jobs.unavailable'))}</p>`;
    return;
  }
  const queued = await pendingEntries().catch(() => []);
  jobs = jobs.filter((j) => !CLOSED.has(j.status)).sort(byUrgency);
  const items = jobs.map((job) => {
    const { status } = afterQueued(job, queued);
    const pending = queued.some((q) => q.jobId === job.id);
    const deadline = nextDeadline(job);
    return `<li class="job-item p${esc(job.priority)}" data-job="${esc(job.id)}">
      <a href="#/job/${esc(job.id)}">
        <div class="row"><span class="badge p${esc(job.priority)}">P${esc(job.priority)}</span>
          <span class="badge">${esc(tOr(`kind.${job.kind}`, job.kind))}</span>
          <span class="badge" data-status>${esc(tOr(`status.${status}`, status))}</span>
          ${pending ? `<span class="badge pending">${esc(t('jobs.pending'))}</span>` : ''}</div>
        <div class="job-title">${esc(job.title)}</div>
        <div class="muted small">${esc(job.number || '')} · ${esc(unitLabel(job) || job.location || '')}</div>
        ${deadline ? `<div class="countdown" data-due="${esc(deadline.dueAt)}" data-clock="${esc(deadline.clock)}"></div>` : ''}
      </a></li>`;
  });
  root.innerHTML = `<div class="row"><h2 class="grow">${esc(t('jobs.title'))}</h2>
      <button type="button" class="secondary" id="refresh">${esc(t('app.refresh'))}</button></div>
    ${items.length ? `<ul class="job-list">${items.join('')}</ul>` : `<p class="card muted">${esc(t('jobs.empty'))}</p>`}`;
  root.querySelector('#refresh').addEventListener('click', () => render(root));
  tick(root);
  clearInterval(timer);
  timer = setInterval(() => tick(root), 1000);
  if (!source && navigator.onLine) {
    // A job assigned or changed at the desk appears without a tap on refresh.
    const later = () => {
      clearTimeout(refresh);
      refresh = setTimeout(() => render(root), 500);
    };
    source = openLiveStream({ handlers: { 'work_order.created': later, 'work_order.updated': later } });
  }
}

/** Stop the countdown timer when leaving the view. */
export function unmount() {
  clearInterval(timer);
  clearTimeout(refresh);
  if (source) source.close();
  source = null;
}
