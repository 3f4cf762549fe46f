/**
 * Management's complaints: those escalated by hand and the major ones (DOMAIN.md "Complaint": a major
 * complaint tells management at once and starts the manager's apology call) — who holds each now, its
 * clocks still running, and whether the apology call was made. Kept live from the stream: a new or changed
 * complaint redraws the list. Shown on the manager's dashboard and as the supervisors' and managers' own
 * worklist (views/escalated.js).
 */

import { listWorkOrders } from '../../api.js';
import { countdown, esc, formatDateTime } from '../../format.js';
import { label, t } from '../../i18n.js';
import { openLiveStream } from '../../live.js';

const OPEN = 'new,assigned,investigating,solved,completed';
const RUNNING = new Set(['running', 'breached']);
// The list on screen now: its stream and timers.
let current = null;

function tick(box) {
  for (const el of box.querySelectorAll('[data-due]')) {
    const { overdue, text } = countdown(el.dataset.due);
    el.textContent = text;
    el.classList.toggle('overdue', overdue);
  }
}

function taskBadge(task) {
  if (!task) return '';
  return task.doneAt
    ? `<span class="badge" data-apology="done">${esc(t('escalated.apologyDone', { name: task.calledBy || '' }))}</span>`
    : `<span class="badge p2" data-apology="owed">${esc(t('escalated.apologyOwed'))}</span>`;
}

function clocksHtml(w) {
  const running = (w.clocks || []).filter((c) => RUNNING.has(c.state) && c.dueAt);
  if (!running.length) return '';
  return `<div class="small escalated-clocks">${running
    .map((c) => `<span data-clock="${esc(c.clock)}">${esc(label('clock', c.clock))} <span class="countdown" data-due="${esc(c.dueAt)}"></span></span>`)
    .join(' · ')}</div>`;
}

function row(w) {
  const r = w.resolution || {};
  const badges = [
    w.major ? `<span class="badge major">${esc(t('complaint.major'))}</span>` : '',
    r.escalatedTo ? `<span class="badge p1">${esc(t('complaint.escalatedBadge', { to: label('escalateTo', r.escalatedTo) }))}</span>` : '',
    taskBadge(r.managementTask),
    r.repeatOf ? `<span class="badge p2">${esc(t('complaint.repeat', { number: r.repeatOf.number || '' }))}</span>` : '',
  ].join(' ');
  return `<li data-escalated="${esc(w.id)}"><a href="#/job/${esc(w.id)}">${esc(w.number)} · ${esc(w.title)}</a>
    <div class="row">${badges} <span class="muted small">${esc(label('status', w.status))} · ${esc(formatDateTime(w.createdAt))}</span></div>
    <div class="small" data-holder>${esc(t('escalated.holder', { name: w.assigneeName || t('complaint.noHandler') }))}</div>
    ${clocksHtml(w)}
    ${r.escalationReason ? `<div class="muted small">${esc(label('escalationReason', r.escalationReason))}</div>` : ''}</li>`;
}

async function draw(box, site) {
  const items = await listWorkOrders({ site, escalated: true, status: OPEN }).catch(() => null);
  if (items === null) {
    box.innerHTML = `<h3>${esc(t('dash.escalated'))}</h3><p class="muted">${esc(t('dash.unavailable'))}</p>`;
    return;
  }
  box.innerHTML = `<h3>${esc(t('dash.escalated'))} (${items.length})</h3>${
    items.length ? `<ul class="history">${items.map(row).join('')}</ul>` : `<p class="muted">${esc(t('dash.noEscalated'))}</p>`
  }`;
  tick(box);
}

/** Said at once above the list: a major complaint just received, or a complaint just escalated. */
function announce(box, data, key) {
  let bar = document.getElementById('escalated-alert');
  if (!bar) {
    bar = document.createElement('p');
    bar.id = 'escalated-alert';
    bar.className = 'banner alert';
    bar.setAttribute('role', 'alert');
    box.before(bar);
  }
  bar.dataset.alertFor = data.id;
  bar.innerHTML = `<a href="#/job/${esc(data.id)}">${esc(t(key, { number: data.number || '', title: data.title || '' }))}</a>`;
}

/**
 * Fill `box` with the open escalated and major complaints of `site`, and keep it current. Each mount has its
 * own stream and timers: a screen left while its list was still loading must not redraw (or cancel the
 * redraw of) the screen that replaced it.
 */
export async function mountEscalated(box, site) {
  unmountEscalated();
  const mine = { source: null, redraw: null, ticker: null, closed: false };
  current = mine;
  await draw(box, site);
  if (mine.closed) return;
  mine.ticker = setInterval(() => tick(box), 1000);
  const later = (event) => {
    const data = JSON.parse(event.data || '{}');
    if (data.kind && data.kind !== 'complaint') return;
    if (event.type === 'work_order.created' && data.major) announce(box, data, 'escalated.alertMajor');
    if (data.action === 'escalate') announce(box, data, 'escalated.alertEscalated');
    clearTimeout(mine.redraw);
    mine.redraw = setTimeout(() => draw(box, site), 300);
  };
  mine.source = openLiveStream({ handlers: { 'work_order.created': later, 'work_order.updated': later } });
}

/** Close the stream when leaving the screen. */
export function unmountEscalated() {
  const bar = document.getElementById('escalated-alert');
  if (bar) bar.remove();
  if (!current) return;
  current.closed = true;
  clearTimeout(current.redraw);
  clearInterval(current.ticker);
  if (current.source) current.source.close();
  current = null;
}
