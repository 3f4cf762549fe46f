/**
 * Owners' messages, the staff side. As a screen (#/ownerMessages): the messages that ended failed on the
 * user's sites, each with its case, the error and a button that sends it again (the same message in the
 * server's outbox, so it still goes once), under the cases whose owners wait for an answer. On a job or
 * complaint (mountCaseMessages): what the case's owners were sent with each message's status, what they
 * told staff (a confirmation of finished work, their messages — new ones marked until opened), and a reply.
 */

import {
  caseOwnerMessages,
  failedOwnerMessages,
  markOwnerMessagesRead,
  ownersWaiting,
  replyToOwners,
  retryOwnerMessage,
} from '../api.js';
import { esc, formatDateTime } from '../format.js';
import { label, refusal, t } from '../i18n.js';

// Who handles owners' messages (the server decides; this only keeps the card off other roles' screens).
const DESK_ROLES = new Set(['agent', 'supervisor', 'manager', 'admin']);
// The longest reply the server takes (one SMS template parameter).
const REPLY_MAX = 60;

function statusBadge(status) {
  const tone = status === 'failed' ? 'p1' : status === 'sent' || status === 'received' ? 'ready' : '';
  return `<span class="badge ${tone}" data-status="${esc(status)}">${esc(label('ownerMessageStatus', status))}</span>`;
}

function itemHtml(m) {
  const who = m.direction === 'in' ? t('ownerMsg.from', { name: m.resident || '' }) : t('ownerMsg.to', { to: m.to || '', channel: label('ownerMessageChannel', m.channel) });
  const text = m.text;
  const unread = m.unread ? `<span class="badge p1" data-unread>${esc(t('ownerMsg.unread'))}</span>` : '';
  return `<li data-owner-message="${esc(m.id)}" data-direction="${esc(m.direction)}"${m.direction === 'in' ? ' class="from-owner"' : ''}>
      <div class="row"><strong>${esc(label('ownerMessage', m.kind))}</strong>${unread}${statusBadge(m.status)}</div>
      <div class="muted small">${esc(formatDateTime(m.at))} · ${esc(who)}</div>
      <p class="owner-text">${esc(text || '')}</p>
      ${m.error ? `<p class="muted small">${esc(t('ownerMsg.error', { error: m.error }))}</p>` : ''}
    </li>`;
}

/** One message to many residents (a building notice) is one entry: how many, each one's status inside. */
function groupHtml(group) {
  const [first] = group;
  const counts = new Map();
  for (const m of group) counts.set(m.status, (counts.get(m.status) || 0) + 1);
  const tally = [...counts].map(([status, n]) => `<span class="badge">${esc(label('ownerMessageStatus', status))} ${n}</span>`).join('');
  const each = group
    .map((m) => `<li data-owner-message="${esc(m.id)}" data-direction="out"><span>${esc(m.to || '')}</span>${statusBadge(m.status)}${m.error ? ` <span class="muted small">${esc(m.error)}</span>` : ''}</li>`)
    .join('');
  return `<li data-owner-group="${group.length}" data-direction="out">
      <div class="row"><strong>${esc(label('ownerMessage', first.kind))}</strong>${tally}</div>
      <div class="muted small">${esc(formatDateTime(first.at))} · ${esc(t('ownerMsg.toMany', { count: group.length, channel: label('ownerMessageChannel', first.channel) }))}</div>
      <p class="owner-text">${esc(first.text || '')}</p>
      <details><summary>${esc(t('ownerMsg.eachRecipient'))}</summary><ul class="history">${each}</ul></details>
    </li>`;
}

/** The history's entries: consecutive copies of one message to several residents drawn as one. */
function historyHtml(items) {
  const groups = [];
  for (const m of items) {
    const last = groups[groups.length - 1];
    const same = last && m.direction === 'out' && last[0].direction === 'out' && last[0].kind === m.kind && last[0].text === m.text && last[0].channel === m.channel;
    if (same) last.push(m);
    else groups.push([m]);
  }
  return groups.map((g) => (g.length > 1 ? groupHtml(g) : itemHtml(g[0]))).join('');
}

/** The case's messages on the job screen; `ownEntry` tells the screen which outbox entries are this card's
 * (the card redraws itself after a reply, so the screen need not). */
export async function mountCaseMessages(section, job, user, ownEntry = () => {}) {
  // a home's case, or a job on shared plant whose building was told of its work (no one to reply to)
  if (!section || !user || !DESK_ROLES.has(user.role) || !(job.unitId || job.assetId)) return;
  let page;
  try {
    page = await caseOwnerMessages(job.id);
  } catch {
    return;
  }
  if (!job.unitId && !page.items.length) return;
  section.hidden = false;
  // opening the case reads its owners' messages (they stay marked new on this screen)
  if (page.items.some((m) => m.unread)) markOwnerMessagesRead(job.id).catch(() => {});
  section.innerHTML = `
    <h3>${esc(t('ownerMsg.title'))}</h3>
    <ul class="history owner-messages">${historyHtml(page.items) || `<li class="muted">${esc(t('ownerMsg.none'))}</li>`}</ul>
    <form class="owner-reply" ${job.unitId ? '' : 'hidden'}>
      <label for="owner-reply-text">${esc(t('ownerMsg.replyLabel'))}</label>
      <textarea id="owner-reply-text" rows="2" maxlength="${REPLY_MAX}" required></textarea>
      <p class="muted small">${esc(t('ownerMsg.replyHint', { max: REPLY_MAX }))}</p>
      <div class="actions"><button type="submit" id="owner-reply-send">${esc(t('ownerMsg.replySend'))}</button></div>
      <p class="hint" id="owner-reply-result" role="status"></p>
    </form>`;
  section.querySelector('form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const box = section.querySelector('#owner-reply-text');
    const result = section.querySelector('#owner-reply-result');
    const text = box.value.trim();
    if (!text) return;
    const button = section.querySelector('#owner-reply-send');
    button.disabled = true;
    const outcome = await replyToOwners(job.id, text);
    if (outcome.state !== 'queued' && outcome.id !== undefined) ownEntry(outcome.id);
    button.disabled = false;
    if (outcome.state === 'conflict') {
      result.textContent = refusal(outcome.conflict);
      return;
    }
    if (outcome.state === 'queued') {
      result.textContent = t('ownerMsg.replyQueued');
      return;
    }
    // answered: one owner fewer waiting on the navigation's count
    window.dispatchEvent(new Event('counts-changed'));
    await mountCaseMessages(section, job, user, ownEntry);
    section.querySelector('#owner-reply-result').textContent = t('ownerMsg.replySent');
  });
}

function failedHtml(m) {
  const where = m.workOrderId ? esc(m.number || '') : esc(t('ownerMsg.building'));
  const open = m.workOrderId ? caseLink(m.workOrderId, m.caseKind, m.number) : '';
  const retry = m.kind === 'sign_in_code' ? '' : `<button type="button" data-retry="${esc(m.id)}">${esc(t('ownerMsg.retry'))}</button>`;
  return `<li class="card" data-failed="${esc(m.id)}">
      <div class="row"><strong>${esc(label('ownerMessage', m.kind))}</strong><span class="muted">${where}</span></div>
      <div class="muted small">${esc(formatDateTime(m.failedAt))} · ${esc(t('ownerMsg.to', { to: m.to, channel: label('ownerMessageChannel', m.channel) }))}</div>
      <p class="owner-text">${esc(m.text || '')}</p>
      <p class="muted small" data-field="error">${esc(t('ownerMsg.error', { error: m.error || '' }))} · ${esc(t('ownerMsg.attempts', { n: m.attempts }))}</p>
      <div class="actions">${open}${retry}</div>
      <p class="hint" data-retry-result="${esc(m.id)}" role="status"></p>
    </li>`;
}

function caseLink(workOrderId, caseKind, number) {
  return `<a class="button secondary" href="#/${caseKind === 'complaint' ? 'complaint' : 'job'}/${esc(workOrderId)}" data-case-link="${esc(workOrderId)}">${esc(t('ownerMsg.openCase', { number: number || '' }))}</a>`;
}

function waitingHtml(c) {
  const unread = c.unread ? `<span class="badge p1">${esc(t('ownerMsg.unread'))}</span>` : '';
  return `<li class="card" data-waiting="${esc(c.workOrderId)}">
      <div class="row"><strong>${esc(c.number)}</strong>${unread}<span class="badge">${esc(label('status', c.status))}</span></div>
      <div class="muted small">${esc(t('ownerMsg.waitingSince', { time: formatDateTime(c.since), n: c.waiting }))}</div>
      <p class="owner-text">${esc(c.lastText || '')}</p>
      <div class="actions">${caseLink(c.workOrderId, c.caseKind, c.number)}</div>
    </li>`;
}

/** The owners waiting for an answer, then the failed messages. */
export async function render(root) {
  const [waiting, page] = await Promise.all([ownersWaiting(), failedOwnerMessages()]);
  root.innerHTML = `
    <section class="card">
      <h2>${esc(t('ownerMsg.waitingTitle'))}</h2>
      <p class="muted">${esc(t('ownerMsg.waitingHint', { n: waiting.total }))}</p>
    </section>
    <ul class="plain owners-waiting">${waiting.items.map(waitingHtml).join('') || `<li class="card muted">${esc(t('ownerMsg.noneWaiting'))}</li>`}</ul>
    <section class="card">
      <h2>${esc(t('ownerMsg.failedTitle'))}</h2>
      <p class="muted">${esc(t('ownerMsg.failedHint', { n: page.total }))}</p>
    </section>
    <ul class="plain failed-messages">${page.items.map(failedHtml).join('') || `<li class="card muted">${esc(t('ownerMsg.noFailed'))}</li>`}</ul>`;
  for (const button of root.querySelectorAll('[data-retry]')) {
    button.addEventListener('click', async () => {
      button.disabled = true;
      const result = await retryOwnerMessage(button.dataset.retry);
      const box = root.querySelector(`[data-retry-result="${button.dataset.retry}"]`);
      if (result.state === 'conflict') {
        box.textContent = refusal(result.conflict);
        return;
      }
      box.textContent = result.state === 'queued' ? t('ownerMsg.retryQueued') : t('ownerMsg.retried');
    });
  }
}
