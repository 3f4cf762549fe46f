/**
 * One complaint (投诉), a desk process: what was received (时间/事由/接待人), its handler and deadlines, then
 * the handler's record — investigation, contacts with the owner (first reply and progress), the solution,
 * the result told — escalation by hand, and the follow-up call by someone other than the handler.
 *
 * Every form appears only when the server's `allowedActions` has its action, its one control marked
 * `data-offers` with the action (tests compare the two); a refusal is shown in the
 * user's language next to the control that caused it. No depart/arrive/sign: a complaint is not visited.
 */

import { getWorkOrder, listUsers, uploadPhoto, workOrderAction } from '../api.js';
import { countdown, esc, formatDateTime } from '../format.js';
import { choices, label, refusal, t } from '../i18n.js';
import { dismissConflict, listConflicts } from '../outbox.js';
import { callbackFieldsHtml, readCallback, wireCallbackFields } from './callbacks.js';
import { resizePhoto } from './job.js';
import { promisesHtml, wirePromises } from './promises.js';
import { mountCaseMessages } from './owner_messages.js';

// Who may handle a complaint (the server checks; this only keeps technicians' field crews off the list).
const HANDLER_ROLES = new Set(['agent', 'supervisor', 'manager', 'technician']);
// Contacts with the owner are kept as the events of these actions (the manager's apology call is one).
const CONTACT_ACTIONS = new Set(['reply', 'inform', 'apology_call_done']);

let timer = null;
// Counts renders, so a test (or a person reading the DOM) can tell the screen was redrawn from the server.
let renders = 0;

function tick(root) {
  for (const el of root.querySelectorAll('[data-due]')) {
    const { overdue, text } = countdown(el.dataset.due);
    el.textContent = text;
    el.classList.toggle('overdue', overdue);
  }
}

function clockLine(c) {
  let state;
  if (c.state === 'met') state = `<span class="badge">${esc(t('job.clockMet'))}</span>`;
  else if (c.state === 'met_late') state = `<span class="badge major">${esc(t('complaint.metLate', { minutes: c.lateMinutes || '' }))}</span>`;
  else if (c.state === 'waived') state = `<span class="badge">${esc(label('clockState', 'waived'))}</span>`;
  else state = `<span class="countdown" data-due="${esc(c.dueAt)}"></span>`;
  return `<li data-clock="${esc(c.clock)}">${esc(label('clock', c.clock))}: ${esc(formatDateTime(c.dueAt))} ${state}</li>`;
}

function receivedHtml(job) {
  const created = (job.events || []).find((e) => e.action === 'created');
  const complainant = [job.reporterName, job.reporterPhone].filter(Boolean).join(' ');
  return `<dl class="facts" id="complaint-received">
      <dt>${esc(t('complaint.receivedAt'))}</dt><dd>${esc(formatDateTime(job.createdAt))} · ${esc(label('channel', job.channel))}</dd>
      <dt>${esc(t('complaint.cause'))}</dt><dd>${esc(label('category', job.category))} · ${esc(job.title)}${job.description ? `<br>${esc(job.description)}` : ''}</dd>
      <dt>${esc(t('complaint.receivedBy'))}</dt><dd data-received-by>${esc((created && created.actorName) || '—')}</dd>
      <dt>${esc(t('complaint.complainant'))}</dt><dd>${esc(complainant || '—')} ${job.unitLabel ? `· ${esc(job.unitLabel)}` : ''}</dd>
      ${job.complainedAboutName ? `<dt>${esc(t('complaint.about'))}</dt><dd>${esc(job.complainedAboutName)}</dd>` : ''}
      <dt>${esc(t('complaint.handler'))}</dt><dd data-handler>${esc(job.assigneeName || t('complaint.noHandler'))}</dd>
    </dl>`;
}

function contactText(e) {
  if (e.action === 'apology_call_done') return t('complaint.apologyMade', { name: e.payload.calledBy || e.actorName || '', said: e.payload.summary || '' });
  return t(e.action === 'inform' ? 'complaint.resultTold' : 'complaint.contact', { said: e.payload.summary || '' });
}

/** Who held the complaint before an escalation and who holds it after. */
function handoverText(e) {
  const to = e.payload.handler ? e.payload.handler.name : '';
  if (!to) return '';
  const from = e.payload.previousHandler ? e.payload.previousHandler.name : t('complaint.noHandler');
  return t('complaint.handedOver', { from, to });
}

/** The management task an escalation started: owed, or made (who, when). */
function taskHtml(task) {
  if (!task) return '';
  const text = task.doneAt
    ? t('complaint.apologyDone', { name: task.calledBy || '', at: formatDateTime(task.doneAt) })
    : t('complaint.apologyOwed', { at: formatDateTime(task.startedAt) });
  return `<p class="small" id="apology-task" data-done="${task.doneAt ? 'true' : 'false'}">${esc(text)}</p>`;
}

function recordHtml(job) {
  const r = job.resolution || {};
  const contacts = (job.events || []).filter((e) => CONTACT_ACTIONS.has(e.action));
  const escalations = (job.events || []).filter((e) => e.action === 'escalate');
  const rows = [];
  if (r.findings) rows.push(`<dt>${esc(t('complaint.findings'))}</dt><dd data-findings>${esc(r.findings)}</dd>`);
  if (r.mediation) rows.push(`<dt>${esc(t('complaint.mediation'))}</dt><dd data-mediation>${esc(r.mediation.parties)}<br>${esc(r.mediation.agreed)}</dd>`);
  if (r.solution) rows.push(`<dt>${esc(t('complaint.solution'))}</dt><dd data-solution>${esc(r.solution)}</dd>`);
  if (r.compensation) rows.push(`<dt>${esc(t('complaint.compensation'))}</dt><dd>${esc(r.compensation)}</dd>`);
  if (r.approvedBy) rows.push(`<dt>${esc(t('complaint.approvedBy'))}</dt><dd>${esc(r.approvedBy)}</dd>`);
  if (r.result) rows.push(`<dt>${esc(t('complaint.result'))}</dt><dd data-result-told>${esc(r.result)}</dd>`);
  const contactList = contacts.length
    ? `<ul class="history" id="contacts">${contacts
        .map((e) => `<li data-contact="${esc(e.action)}"><span class="muted small">${esc(formatDateTime(e.at))} · ${esc(label('contact', e.payload.via))} · ${esc(e.actorName || '')}</span><br>
          ${esc(contactText(e))}</li>`)
        .join('')}</ul>`
    : `<p class="muted">${esc(t('complaint.noContacts'))}</p>`;
  const escalationList = escalations.length
    ? `<ul class="history" id="escalations">${escalations
        .map((e) => `<li><span class="muted small">${esc(formatDateTime(e.at))} · ${esc(e.actorName || '')}</span><br>
          ${esc(t('complaint.escalatedTo', { to: label('escalateTo', e.payload.to || 'supervisor'), reason: label('escalationReason', e.payload.reason) }))} ${esc(e.payload.note || '')}
          ${handoverText(e) ? `<br><span data-handover>${esc(handoverText(e))}</span>` : ''}</li>`)
        .join('')}</ul>`
    : '';
  const callbacks = (job.callbacks || [])
    .map((c) => `<li>${esc(formatDateTime(c.calledAt))} · ${esc(c.calledByName || '')} · ${esc(c.reached ? `${c.satisfaction} · ${label('satisfaction', c.satisfaction)}` : t('callbacks.reachedNo'))} ${esc(c.comment || '')}</li>`)
    .join('');
  return `<section class="card"><h3>${esc(t('complaint.record'))}</h3>
      ${rows.length ? `<dl class="facts stacked">${rows.join('')}</dl>` : ''}
      <h4>${esc(t('complaint.contacts'))}</h4>${contactList}
      ${escalationList ? `<h4>${esc(t('complaint.escalations'))}</h4>${escalationList}` : ''}
      ${taskHtml(r.managementTask)}
      ${callbacks ? `<h4>${esc(t('callbacks.title'))}</h4><ul class="history">${callbacks}</ul>` : ''}
    </section>`;
}

function viaSelect(id) {
  const options = (choices().contactVia || ['phone', 'sms', 'visit']).map((v) => `<option value="${v}">${esc(label('contact', v))}</option>`).join('');
  return `<label for="${id}">${esc(t('complaint.via'))}</label><select id="${id}">${options}</select>`;
}

function errorBox(action) {
  return `<p class="form-error" data-error-for="${action}" role="alert" hidden></p>`;
}

function button(action, text = label('action', action), extra = '') {
  return `<div class="actions"><button type="button" data-act="${action}" data-offers="${action}" ${extra}>${esc(text)}</button></div>${errorBox(action)}`;
}

/** The forms for what the caller may do now, in the order of the work. */
function formsHtml(job, allowed, staff) {
  const parts = [];
  if (allowed.has('assign')) {
    const people = staff
      .filter((u) => HANDLER_ROLES.has(u.role) && u.id !== job.complainedAboutId && u.active !== false)
      .map((u) => `<option value="${esc(u.id)}" ${u.id === job.assigneeId ? 'selected' : ''}>${esc(u.displayName)} · ${esc(label('role', u.role))}</option>`)
      .join('');
    parts.push(`<section class="card" id="form-assign"><h3>${esc(t('complaint.nameHandler'))}</h3>
      <label for="handler">${esc(t('complaint.handler'))}</label><select id="handler">${people}</select>
      ${button('assign', t('complaint.assignHandler'))}</section>`);
  }
  if (allowed.has('investigate')) {
    parts.push(`<section class="card" id="form-investigate"><h3>${esc(t('complaint.investigation'))}</h3>
      <p class="muted small">${esc(t('complaint.investigateSameDay'))}</p>
      <label for="findings">${esc(t('complaint.findingsLabel'))}</label><textarea id="findings" rows="3">${esc((job.resolution || {}).findings || '')}</textarea>
      <label class="button secondary" for="complaint-photo">${esc(t('complaint.addPhoto'))}</label>
      <input id="complaint-photo" class="hidden" type="file" accept="image/*" capture="environment">
      <p class="muted small" id="photo-count">${esc(t('complaint.photos', { count: (job.photos || []).length }))}</p>
      ${button('investigate')}</section>`);
  }
  if (allowed.has('reply')) {
    parts.push(`<section class="card" id="form-reply"><h3>${esc(t('complaint.replyTitle'))}</h3>
      <p class="muted small">${esc(t('complaint.replyHint'))}</p>
      ${viaSelect('reply-via')}
      <label for="reply-summary">${esc(t('complaint.said'))}</label><textarea id="reply-summary" rows="2"></textarea>
      ${button('reply', t('complaint.recordContact'))}</section>`);
  }
  if (allowed.has('solve')) {
    const r = job.resolution || {};
    // A neighbour dispute is mediated first (the server's list of such categories comes with the catalogue).
    const mediation = (choices().mediationFirst || []).includes(job.category) && !r.mediation;
    parts.push(`<section class="card" id="form-solve"><h3>${esc(t('complaint.solution'))}</h3>
      ${mediation ? `<p class="muted small">${esc(t('complaint.mediationFirst'))}</p>
      <label for="mediation-parties">${esc(t('complaint.mediationParties'))}</label><input id="mediation-parties">
      <label for="mediation-agreed">${esc(t('complaint.mediationAgreed'))}</label><textarea id="mediation-agreed" rows="2"></textarea>` : ''}
      <label for="solution">${esc(t('complaint.solutionLabel'))}</label><textarea id="solution" rows="3">${esc(r.solution || '')}</textarea>
      <label for="compensation">${esc(t('complaint.compensationLabel'))}</label><input id="compensation" value="${esc(r.compensation || '')}">
      <label for="approved-by">${esc(t('complaint.approvedBy'))}</label><input id="approved-by" value="${esc(r.approvedBy || '')}">
      ${button('solve')}</section>`);
  }
  if (allowed.has('inform')) {
    parts.push(`<section class="card" id="form-inform"><h3>${esc(t('complaint.informTitle'))}</h3>
      ${viaSelect('inform-via')}
      <label for="inform-summary">${esc(t('complaint.said'))}</label><textarea id="inform-summary" rows="2"></textarea>
      ${button('inform')}</section>`);
  }
  if (allowed.has('callback')) {
    parts.push(`<section class="card" id="form-callback" data-callback-form="${esc(job.id)}"><h3>${esc(t('complaint.callbackTitle'))}</h3>
      <p class="muted small">${esc(t('complaint.callbackHint'))}</p>
      ${callbackFieldsHtml(job.id)}
      ${button('callback', t('callbacks.record'))}</section>`);
  }
  if (allowed.has('escalate')) {
    const reasons = (choices().escalationReasons || []).map((r) => `<option value="${r}">${esc(label('escalationReason', r))}</option>`).join('');
    parts.push(`<section class="card" id="form-escalate"><h3>${esc(t('complaint.escalateTitle'))}</h3>
      <label for="escalate-reason">${esc(t('complaint.escalateReason'))}</label><select id="escalate-reason">${reasons}</select>
      <label for="escalate-to">${esc(t('complaint.escalateTo'))}</label>
      <select id="escalate-to">${['supervisor', 'manager'].map((to) => `<option value="${to}" ${to === 'manager' && job.major ? 'selected' : ''}>${esc(label('escalateTo', to))}</option>`).join('')}</select>
      <label for="escalate-note">${esc(t('complaint.note'))}</label><input id="escalate-note">
      ${button('escalate', label('action', 'escalate'), 'class="secondary"')}</section>`);
  }
  if (allowed.has('apology_call_done')) {
    parts.push(`<section class="card" id="form-apology"><h3>${esc(t('complaint.apologyTitle'))}</h3>
      <p class="muted small">${esc(t('complaint.apologyHint'))}</p>
      ${viaSelect('apology-via')}
      <label for="apology-by">${esc(t('complaint.apologyBy'))}</label><input id="apology-by" maxlength="100">
      <label for="apology-summary">${esc(t('complaint.said'))}</label><textarea id="apology-summary" rows="2"></textarea>
      ${button('apology_call_done', label('action', 'apology_call_done'), 'data-offers="apology_call_done"')}</section>`);
  }
  const closing = ['close', 'reopen', 'cancel', 'decline'].filter((a) => allowed.has(a));
  if (closing.length) {
    parts.push(`<section class="card" id="form-oversight"><h3>${esc(t('complaint.oversight'))}</h3>
      <label for="oversight-reason">${esc(t('complaint.reason'))}</label><input id="oversight-reason">
      <div class="actions">${closing.map((a) => `<button type="button" class="secondary" data-act="${a}" data-offers="${a}">${esc(label('action', a))}</button>`).join('')}</div>
      ${closing.map(errorBox).join('')}</section>`);
  }
  return parts.join('');
}

const value = (root, selector) => (root.querySelector(selector) ? root.querySelector(selector).value.trim() : '');

/** The body of each action, read from its form; a string is a local refusal (nothing sent). */
function bodyFor(action, root, job) {
  switch (action) {
    case 'assign':
      return { assigneeId: value(root, '#handler') || null };
    case 'investigate':
      return value(root, '#findings') ? { findings: value(root, '#findings') } : t('complaint.sayFindings');
    case 'reply':
    case 'inform': {
      const summary = value(root, `#${action}-summary`);
      return summary ? { via: value(root, `#${action}-via`), summary } : t('complaint.saySaid');
    }
    case 'solve': {
      if (!value(root, '#solution')) return t('complaint.saySolution');
      const body = { solution: value(root, '#solution'), compensation: value(root, '#compensation') || null, approvedBy: value(root, '#approved-by') || null };
      if (value(root, '#mediation-parties') || value(root, '#mediation-agreed')) {
        body.mediation = { parties: value(root, '#mediation-parties'), agreed: value(root, '#mediation-agreed') };
      }
      return body;
    }
    case 'apology_call_done': {
      const summary = value(root, '#apology-summary');
      if (!summary) return t('complaint.saySaid');
      return { via: value(root, '#apology-via'), summary, calledBy: value(root, '#apology-by') };
    }
    case 'escalate':
      return { reason: value(root, '#escalate-reason'), to: value(root, '#escalate-to'), note: value(root, '#escalate-note') };
    case 'callback':
      return readCallback(root.querySelector('[data-callback-form]'));
    default: {
      const reason = value(root, '#oversight-reason');
      return reason || action === 'close' ? { reason: reason || null } : t('complaint.sayReason');
    }
  }
}

/** Render a complaint by id; `loaded` is the work order when the caller already fetched it. */
export async function render(root, params, ctx, loaded = null) {
  const id = params[0];
  clearInterval(timer);
  let job = loaded;
  if (!job) {
    try {
      job = await getWorkOrder(id);
    } catch (error) {
      root.innerHTML = `<p class="card error">${esc(error.status === 404 ? t('job.notFound') : t('job.unavailableOffline'))}</p>`;
      return;
    }
  }
  const allowed = new Set(job.allowedActions || []);
  const site = job.siteId;
  const staff = allowed.has('assign') ? await listUsers({ site }).catch(() => []) : [];
  const badges = [
    `<span class="badge">${esc(label('kind', job.kind))}</span>`,
    `<span class="badge" id="job-status">${esc(label('status', job.status))}</span>`,
    job.major ? `<span class="badge major" id="complaint-major">${esc(t('complaint.major'))}</span>` : '',
    job.resolution && job.resolution.escalatedTo ? `<span class="badge p1" id="complaint-escalated">${esc(t('complaint.escalatedBadge', { to: label('escalateTo', job.resolution.escalatedTo) }))}</span>` : '',
    job.resolution && job.resolution.repeatOf ? `<span class="badge p2" id="complaint-repeat">${esc(t('complaint.repeat', { number: job.resolution.repeatOf.number || '' }))}</span>` : '',
  ].join('');
  root.innerHTML = `
    <section class="card complaint" data-complaint="${esc(job.id)}" data-render="${++renders}">
      <div class="row">${badges}</div>
      <h2>${esc(job.title)}</h2>
      <div class="muted small">${esc(job.number || '')}</div>
      ${receivedHtml(job)}
      <h3>${esc(t('job.clocks'))}</h3><ul class="history" id="complaint-clocks">${(job.clocks || []).map(clockLine).join('') || '<li class="muted">—</li>'}</ul>
      <p id="complaint-message" class="banner queued hidden" role="status"></p>
    </section>
    ${formsHtml(job, allowed, staff)}
    ${recordHtml(job)}
    ${promisesHtml(job)}
    <section class="card" id="owner-messages" hidden></section>`;
  wirePromises(root, job);
  mountCaseMessages(root.querySelector('#owner-messages'), job, ctx.user);

  const callbackForm = root.querySelector('[data-callback-form]');
  if (callbackForm) wireCallbackFields(callbackForm);

  const photo = root.querySelector('#complaint-photo');
  if (photo) {
    photo.addEventListener('change', async () => {
      const file = photo.files[0];
      if (!file) return;
      const result = await uploadPhoto(id, await resizePhoto(file), 'during');
      if (result.state === 'conflict') showError(root, 'investigate', refusal(result.conflict));
      else root.querySelector('#photo-count').textContent = t('complaint.photos', { count: (job.photos || []).length + 1 });
    });
  }

  for (const control of root.querySelectorAll('[data-act]')) {
    control.addEventListener('click', async () => {
      const action = control.dataset.act;
      for (const box of root.querySelectorAll('[data-error-for]')) box.hidden = true;
      const body = bodyFor(action, root, job);
      if (typeof body === 'string') return showError(root, action, body);
      control.disabled = true;
      const result = await workOrderAction(id, action, body);
      if (result.state === 'conflict') {
        control.disabled = false;
        showError(root, action, refusal(result.conflict));
        // Said next to the control, and the form is still here to fix: no second notice on top.
        for (const stored of await listConflicts().catch(() => [])) {
          if (stored.entryId === (result.conflict || {}).entryId) await dismissConflict(stored.id);
        }
        ctx.refreshConflicts();
        return;
      }
      ctx.refreshBanner();
      if (result.state === 'delivered') await render(root, [id], ctx, result.body);
      else {
        const message = root.querySelector('#complaint-message');
        message.textContent = t('job.queued');
        message.classList.remove('hidden');
      }
    });
  }
  tick(root);
  timer = setInterval(() => tick(root), 1000);
}

function showError(root, action, message) {
  const box = root.querySelector(`[data-error-for="${action}"]`);
  if (!box) return;
  box.textContent = message;
  box.hidden = !message;
}

/** Stop the countdowns. */
export function unmount() {
  clearInterval(timer);
}
