/**
 * A technician's job alerts, on every screen: a job assigned to them rings and vibrates once; an emergency
 * keeps ringing, with a banner on top of whatever is open, until they accept it (or it goes to someone else).
 *
 * Heard on the live stream (`work_order.updated`, action assign/reopen, assigneeId = me) and, while the
 * stream reconnects, from the service worker's push message. At start, emergencies already waiting for this
 * technician's acceptance ring too: a phone opened from a push notification must not be silent.
 */

import { listWorkOrders } from './api.js';
import { ringOnce, ringUntilStopped, stopRinging, stopRingingExcept, unlockAudio } from './alerts.js';
import { esc } from './format.js';
import { t } from './i18n.js';
import { openLiveStream } from './live.js';

// A job waits for its technician's acceptance in this status; any other means it was answered or moved on.
const WAITING = 'assigned';

let source = null;
let user = null;
// job id → {id, number, title, kind}: emergencies still ringing
const waiting = new Map();

function banner() {
  let box = document.getElementById('job-alert');
  if (!box) {
    box = document.createElement('div');
    box.id = 'job-alert';
    box.setAttribute('role', 'alert');
    document.body.append(box);
  }
  const [job] = waiting.values();
  box.hidden = !job;
  box.className = 'job-alert critical';
  box.innerHTML = job
    ? `<p>${esc(t('jobAlert.emergency', { number: job.number || '' }))}</p>${job.title ? `<p class="job-alert-title">${esc(job.title)}</p>` : ''}
       <a class="button" href="#/job/${esc(job.id)}" data-job-alert="${esc(job.id)}">${esc(t('jobAlert.open'))}</a>`
    : '';
  const link = box.querySelector('[data-job-alert]');
  if (link) link.addEventListener('click', unlockAudio);
}

function ringFor(job) {
  if (job.kind === 'emergency') {
    waiting.set(job.id, job);
    ringUntilStopped(`job:${job.id}`, 'job');
    banner();
  } else {
    ringOnce('job');
  }
}

function answered(id) {
  if (!waiting.has(id)) return;
  waiting.delete(id);
  stopRinging(`job:${id}`);
  banner();
}

function onUpdate(event) {
  let data;
  try {
    data = JSON.parse(event.data);
  } catch {
    return;
  }
  if (!data || !data.id) return;
  const mine = data.assigneeId === user.id;
  const fresh = (data.action === 'assign' || data.action === 'reopen') && mine && data.status === WAITING;
  if (fresh && !waiting.has(data.id)) ringFor({ id: data.id, number: data.number, kind: data.kind, title: '' });
  else if (!mine || data.status !== WAITING) answered(data.id);
}

function onPush(event) {
  const data = event.data && event.data.type === 'push' ? event.data.data : null;
  if (!data || data.kind !== 'assignment' || !data.workOrderId) return;
  if (!waiting.has(data.workOrderId)) ringFor({ id: data.workOrderId, number: data.number, kind: data.jobKind, title: '' });
}

/** Start (technician) or stop (anyone else, or signed out) following this user's new jobs. */
export async function followAssignments(next) {
  if (source) source.close();
  source = null;
  if (navigator.serviceWorker) navigator.serviceWorker.removeEventListener('message', onPush);
  waiting.clear();
  stopRingingExcept('job:', new Set());
  user = next;
  banner();
  if (!user || user.role !== 'technician') return;
  source = openLiveStream({ handlers: { 'work_order.updated': onUpdate } });
  if (navigator.serviceWorker) navigator.serviceWorker.addEventListener('message', onPush);
  try {
    for (const job of await listWorkOrders({ assignee: 'me', status: WAITING, kind: 'emergency' })) {
      if (job.assigneeId === user.id || job.assigneeId === undefined) ringFor(job);
    }
  } catch {
    // offline at start: the stream and pushes still ring for what comes next
  }
}
