/**
 * Management's complaints: those escalated by hand and the major ones (DOMAIN.md "Complaint": a major
 * complaint tells management at once and starts the manager's apology call). Kept live from the stream: a
 * new or changed complaint redraws the list.
 */

import { listWorkOrders } from '../../api.js';
import { esc, formatDateTime } from '../../format.js';
import { label, t } from '../../i18n.js';
import { openLiveStream } from '../../live.js';

const OPEN = 'new,assigned,investigating,solved,completed';
let source = null;
let redraw = null;

function row(w) {
  const r = w.resolution || {};
  const badges = [
    w.major ? `<span class="badge major">${esc(t('complaint.major'))}</span>` : '',
    r.escalatedTo ? `<span class="badge p1">${esc(t('complaint.escalatedBadge', { to: label('escalateTo', r.escalatedTo) }))}</span>` : '',
    r.managementTask ? `<span class="badge">${esc(t('dash.apologyCall'))}</span>` : '',
    r.repeatOf ? `<span class="badge p2">${esc(t('complaint.repeat', { number: r.repeatOf.number || '' }))}</span>` : '',
  ].join(' ');
  return `<li data-escalated="${esc(w.id)}"><a href="#/job/${esc(w.id)}">${esc(w.number)} · ${esc(w.title)}</a>
    <div class="row">${badges} <span class="muted small">${esc(label('status', w.status))} · ${esc(w.assigneeName || t('complaint.noHandler'))} · ${esc(formatDateTime(w.createdAt))}</span></div>
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
}

/** Fill `box` with the open escalated and major complaints of `site`, and keep it current. */
export async function mountEscalated(box, site) {
  unmountEscalated();
  await draw(box, site);
  const later = (event) => {
    const data = JSON.parse(event.data || '{}');
    if (data.kind && data.kind !== 'complaint') return;
    clearTimeout(redraw);
    redraw = setTimeout(() => draw(box, site), 300);
  };
  source = openLiveStream({ handlers: { 'work_order.created': later, 'work_order.updated': later } });
}

/** Close the stream when leaving the dashboard. */
export function unmountEscalated() {
  clearTimeout(redraw);
  if (source) source.close();
  source = null;
}
