/**
 * My jobs: the technician's open work orders, most urgent first, each with a live countdown. Each listed job
 * is kept on the phone as the list loads; the list marks the ones ready to open offline and says when it
 * last reached the server.
 */

import { afterQueued, myJobs, nextDeadline, unitLabel } from '../api.js';
import { savedJobIds } from '../device.js';
import { countdown, esc, formatDateTime } from '../format.js';
import { t, tOr } from '../i18n.js';
import { openLiveStream } from '../live.js';
import { pendingEntries } from '../outbox.js';

const CLOSED = new Set(['closed', 'cancelled']);
let timer = null;
let source = null;
let refresh = null;
// Bumped by every render and by unmount: a render still reading when the user has moved on draws nothing.
let generation = 0;

/** Most urgent first: priority, then the nearest deadline, then the oldest. */
export function byUrgency(a, b) {
  if (a.priority !== b.priority) return String(a.priority).localeCompare(String(b.priority));
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

function markReady(root, id) {
  const mark = root.querySelector(`[data-job="${CSS.escape(id)}"] [data-ready]`);
  if (mark) mark.hidden = false;
}

/** Render the list (from the network, or the copy kept on this phone when offline). */
export async function render(root) {
  const mine = ++generation;
  root.innerHTML = `<h2>${esc(t('jobs.title'))}</h2><p class="muted">${esc(t('app.loading'))}</p>`;
  let jobs;
  let sync;
  // Jobs stored while the list is drawn are marked once it is on screen.
  const readyEarly = new Set();
  let drawn = false;
  try {
    sync = await myJobs({ onReady: (id) => (drawn ? markReady(root, id) : readyEarly.add(id)) });
    jobs = sync.items;
  } catch (error) {
    if (mine !== generation) return;
    root.innerHTML = `<h2>${esc(t('jobs.title'))}</h2><p class="card error">${esc(navigator.onLine ? t('jobs.failed') : t('jobs.unavailable'))}</p>`;
    return;
  }
  const queued = await pendingEntries().catch(() => []);
  const kept = await savedJobIds().catch(() => new Set());
  if (mine !== generation) return;
  jobs = jobs.filter((j) => !CLOSED.has(j.status)).sort(byUrgency);
  const items = jobs.map((job) => {
    const { status } = afterQueued(job, queued);
    const pending = queued.some((q) => q.jobId === job.id);
    const deadline = nextDeadline(job);
    return `<li class="job-item ${esc(String(job.priority).toLowerCase())}" data-job="${esc(job.id)}">
      <a href="#/job/${esc(job.id)}">
        <div class="row"><span class="badge ${esc(String(job.priority).toLowerCase())}">${esc(job.priority)}</span>
          <span class="badge">${esc(tOr(`kind.${job.kind}`, job.kind))}</span>
          <span class="badge" data-status>${esc(tOr(`status.${status}`, status))}</span>
          ${pending ? `<span class="badge pending">${esc(t('jobs.pending'))}</span>` : ''}
          <span class="badge ready" data-ready ${kept.has(job.id) ? '' : 'hidden'}>${esc(t('jobs.readyOffline'))}</span></div>
        <div class="job-title">${esc(job.title)}</div>
        <div class="muted small">${esc(job.number || '')} · ${esc(unitLabel(job) || job.location || '')}</div>
        ${deadline ? `<div class="countdown" data-due="${esc(deadline.dueAt)}" data-clock="${esc(deadline.clock)}"></div>` : ''}
      </a></li>`;
  });
  root.innerHTML = `<div class="row"><h2 class="grow">${esc(t('jobs.title'))}</h2>
      <button type="button" class="secondary" id="refresh">${esc(t('app.refresh'))}</button></div>
    <p class="muted small" id="synced">${esc(t(sync.offline ? 'jobs.syncedOffline' : 'jobs.synced', { time: formatDateTime(sync.syncedAt) }))}</p>
    ${items.length ? `<ul class="job-list">${items.join('')}</ul>` : `<p class="card muted">${esc(t('jobs.empty'))}</p>`}`;
  drawn = true;
  for (const id of readyEarly) markReady(root, id);
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
  generation += 1;
  clearInterval(timer);
  clearTimeout(refresh);
  if (source) source.close();
  source = null;
}
