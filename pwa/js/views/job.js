/**
 * One job, on site: facts, tap-to-call, a control for exactly each action the server allows the caller
 * (`allowedActions`), photos (resized on the phone, shown as thumbnails, queued ones too), the checklist,
 * completion, the owner's signature (signature_pad) or the reason nobody signed, and history.
 *
 * Works offline: actions are queued in the outbox and their effect is shown at once (marked as waiting).
 * Whatever is typed, ticked or drawn is kept as a draft on the phone (device.js) and restored on every
 * render, so a photo, a reload or a lost signal never wipes it; the draft goes once the completion is queued.
 */

import SignaturePad from '../../vendor/signature_pad/signature_pad.js';
import { afterQueued, currentGeo, entryAction, getUnit, getWorkOrder, nextDeadline, OfflineError, photoThumbnail, savedUnit, signWorkOrder, unitLabel, uploadPhoto, workOrderAction } from '../api.js';
import { clearDraft, loadDraft, saveDraft } from '../device.js';
import { countdown, esc, formatDateTime } from '../format.js';
import { currentLocale, refusal, t, tOr } from '../i18n.js';
import { onOutboxMessage, pendingEntries } from '../outbox.js';
import { renderAssign } from './assign.js';
import { promisesHtml, wirePromises } from './promises.js';
import { mountCaseMessages } from './owner_messages.js';
import { tickChecklist } from './emergency_plan.js';
import { mountJobSafety } from './job_safety.js';
import { mountJobNotice } from './job_notice.js';

// Photos larger than this are scaled down on the phone: enough to read a meter, cheap on a weak signal.
const MAX_PHOTO_EDGE = 1600;
const JPEG_QUALITY = 0.85;

// How each action the server may allow is offered; which of them appear is the server's `allowedActions`.
// Steps are sent as they are; these ask for a reason first; complete and sign have their own forms below.
const REASON_ACTIONS = new Set(['decline', 'pause', 'cancel', 'reopen']);
const OWN_FORM = new Set(['complete', 'sign']);
// A complaint's steps are worked on its own screen; the follow-up call on the callbacks screen.
const COMPLAINT_STEPS = new Set(['investigate', 'reply', 'solve', 'inform', 'escalate']);
const SECONDARY = new Set(['decline', 'pause', 'cancel']);
const RELATIONS = ['owner', 'tenant', 'family', 'agent'];
const NO_SIGN_REASONS = ['owner_absent', 'public_area', 'refused', 'other'];
const STAGES = ['before', 'during', 'after'];

let timer = null;
let pad = null;
let stopListening = null;
let rerender = null;
// True while this view submits an action itself; the outbox entries it sent, whose later announcements
// must not trigger a second render.
let busy = false;
const ownEntries = new Set();
// Renders overlap (an answer arrives while the last one still reads): only the latest may draw.
let generation = 0;
// Draft writes in order; a render waits for them so it restores the latest keystroke.
let draftWrites = Promise.resolve();
// Object URLs of the thumbnails on screen, released on the next render.
let thumbUrls = [];

function keepDraft(id, fields) {
  draftWrites = draftWrites.then(() => saveDraft(id, fields)).catch(() => undefined);
  return draftWrites;
}
// A complaint is a desk process with a screen of its own (views/complaint.js); this view hands it over.
let delegate = null;

/** Scale an image file to at most MAX_PHOTO_EDGE px on its long edge and encode it as JPEG. */
export async function resizePhoto(file) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, MAX_PHOTO_EDGE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', JPEG_QUALITY));
}

function checklistLabel(item) {
  const own = currentLocale() === 'en' ? item.labelEn : item.labelZh;
  return own || item.code;
}

function queuedFor(job, queued) {
  const { status, allowedActions, pending } = afterQueued(job, queued);
  return {
    status,
    allowed: new Set(allowedActions),
    actions: pending.filter((a) => !['photos', 'sign'].includes(a)),
    photos: pending.filter((a) => a === 'photos').length,
    signature: pending.includes('sign'),
  };
}

function owner(job, unit) {
  const residents = (unit && unit.residents) || job.residents || [];
  const first = job.owner || residents.find((r) => r.relation === 'owner') || residents[0];
  // The API sends a resident's number only to whoever may call it (their own job, an emergency); others get
  // phoneMasked (138****5678) to recognise the caller by, with no link to dial.
  if (first && first.phone) return { name: first.name, phone: first.phone };
  if (job.reporterName || job.reporterPhone) return { name: job.reporterName, phone: job.reporterPhone };
  if (first) return { name: first.name, masked: first.phoneMasked };
  return null;
}

function clockBadge(c) {
  if (c.state === 'met_late') return `<span class="badge late">${esc(t('job.clockMetLate', { minutes: c.lateMinutes ?? '' }))}</span>`;
  if (c.state === 'met' || (c.metAt && c.state !== 'met_late')) return `<span class="badge">${esc(t('job.clockMet'))}</span>`;
  if (c.state === 'paused' || c.state === 'waived') return `<span class="badge">${esc(tOr(`clockState.${c.state}`, c.state))}</span>`;
  return `<span class="countdown" data-due="${esc(c.dueAt)}"></span>`;
}

/** The time agreed with the owner (site's clock) and, once arrival missed it, by how much (the server says). */
function appointmentHtml(job) {
  if (!job.appointmentAt) return '';
  const missed = (job.resolution || {}).missedAppointment;
  return `<dt>${esc(t('appointment.label'))}</dt><dd id="appointment">${esc(formatDateTime(job.appointmentAt))}
    ${missed ? `<span class="badge overdue" id="missed-appointment">${esc(t('appointment.missed', { minutes: missed.lateMinutes }))}</span>` : ''}</dd>`;
}

function clocksHtml(job) {
  return (job.clocks || [])
    .map((c) => `<li>${esc(tOr(`clock.${c.clock}`, c.clock))}: ${esc(formatDateTime(c.dueAt))} ${clockBadge(c)}</li>`)
    .join('');
}

// The phone's own time is worth showing only when the action waited on the phone (queued offline).
const QUEUED_LONGER_THAN_MS = 60_000;

function waitedOnPhone(e) {
  return e.clientAt && Math.abs(new Date(e.at) - new Date(e.clientAt)) > QUEUED_LONGER_THAN_MS;
}

function historyHtml(job) {
  const events = job.events || [];
  if (!events.length) return `<p class="muted">${esc(t('job.noHistory'))}</p>`;
  return `<ul class="history">${events
    .map(
      (e) => `<li><span class="muted small">${esc(formatDateTime(e.at))}</span>
        ${esc(tOr(`action.${e.action}`, e.action))} → ${esc(tOr(`status.${e.toStatus}`, e.toStatus || ''))}
        ${e.actorName ? `<span class="muted small">· ${esc(e.actorName)}</span>` : ''}
        ${waitedOnPhone(e) ? `<span class="muted small">· ${esc(t('job.clientAt', { time: formatDateTime(e.clientAt) }))}</span>` : ''}</li>`,
    )
    .join('')}</ul>`;
}

function relatedHtml(job) {
  const related = job.unitHistory || job.assetHistory || job.history || [];
  if (!related.length) return '';
  return `<section class="card"><h3>${esc(t('job.relatedHistory'))}</h3><ul class="history">${related
    .map((w) => `<li>${esc(formatDateTime(w.createdAt))} · ${esc(w.number || '')} ${esc(w.title || '')} · ${esc(tOr(`status.${w.status}`, w.status || ''))}</li>`)
    .join('')}</ul></section>`;
}

/** The photos of the job and those waiting in the outbox ({stage, file}), as thumbnails filled in later. */
function photosHtml(job, queuedPhotos) {
  const figures = [
    ...(job.photos || []).map(
      (p) => `<figure><img alt="${esc(tOr(`stage.${p.stage}`, p.stage))}" data-thumb="${esc(p.id)}">
        <figcaption>${esc(tOr(`stage.${p.stage}`, p.stage))}${p.visit !== job.visit ? ` · ${esc(t('job.visitN', { visit: p.visit }))}` : ''}</figcaption></figure>`,
    ),
    ...queuedPhotos.map(
      (p, i) => `<figure class="pending"><img alt="${esc(tOr(`stage.${p.stage}`, p.stage))}" data-queued-thumb="${i}">
        <figcaption>${esc(tOr(`stage.${p.stage}`, p.stage))} · ${esc(t('jobs.pending'))}</figcaption></figure>`,
    ),
  ];
  return figures.length ? `<div class="photos" id="photo-thumbs">${figures.join('')}</div>` : '';
}

/** The photos queued on this phone for the job: the stage and the JPEG, read back from the outbox entry. */
async function queuedPhotos(id, queued) {
  const photos = [];
  for (const entry of queued.filter((q) => q.jobId === id && entryAction(q) === 'photos')) {
    try {
      const form = await new Response(entry.body, { headers: { 'Content-Type': entry.headers['Content-Type'] } }).formData();
      photos.push({ stage: form.get('stage'), file: form.get('file') });
    } catch {
      // An entry that cannot be read back still counts as waiting (the badge says so).
    }
  }
  return photos;
}

async function showThumbnails(root, job, queued) {
  for (const img of root.querySelectorAll('[data-queued-thumb]')) {
    const { file } = queued[Number(img.dataset.queuedThumb)];
    if (!file) continue;
    const url = URL.createObjectURL(file);
    thumbUrls.push(url);
    img.src = url;
  }
  await Promise.all(
    [...root.querySelectorAll('[data-thumb]')].map(async (img) => {
      const photo = (job.photos || []).find((p) => p.id === img.dataset.thumb);
      const url = await photoThumbnail(photo).catch(() => null);
      if (!url) return;
      if (!img.isConnected) {
        URL.revokeObjectURL(url);
        return;
      }
      thumbUrls.push(url);
      img.src = url;
    }),
  );
}

/**
 * The stage a new photo most likely is: "before" on arrival, "after" once this visit has a before photo
 * (taken or queued) or the work done is being written.
 */
function likelyStage(job, queued, draft) {
  const before = [...(job.photos || []).filter((p) => p.visit === job.visit), ...queued].some((p) => p.stage === 'before');
  return before || (draft.workDone || '').trim() ? 'after' : 'before';
}

function checklistHtml(job, draft) {
  const items = job.checklist || [];
  if (!items.length) return `<p class="muted">${esc(t('job.noChecklist'))}</p>`;
  const done = (job.resolution && job.resolution.checklist) || {};
  const ticked = draft.checklist || {};
  return items
    .map((item) => {
      const on = item.code in ticked ? ticked[item.code] : done[item.code] || item.done;
      return `<label><input type="checkbox" name="check" value="${esc(item.code)}" ${on ? 'checked' : ''}>
        <span>${esc(checklistLabel(item))}${item.required === false ? ` <span class="muted small">(${esc(t('job.optional'))})</span>` : ''}</span></label>`;
    })
    .join('');
}

function errorSlot(name) {
  return `<p class="field-error" data-error-for="${name}" role="alert" hidden></p>`;
}

function signatureHtml(job, pending, draft) {
  if (job.signature || pending.signature) {
    const s = job.signature || {};
    return `<p class="badge">${esc(pending.signature && !job.signature ? t('job.signaturePending') : t('job.signed', { name: s.signerName || tOr(`noSign.${s.noSignReason}`, '') }))}</p>`;
  }
  const relation = draft.relation || RELATIONS[0];
  const reason = draft.noSignReason || NO_SIGN_REASONS[0];
  return `
    <label for="signer-name">${esc(t('job.signerName'))}</label>
    <input id="signer-name" autocomplete="off" value="${esc(draft.signerName || '')}">
    <label for="signer-relation">${esc(t('job.relation'))}</label>
    <select id="signer-relation">${RELATIONS.map((r) => `<option value="${r}" ${r === relation ? 'selected' : ''}>${esc(t(`relation.${r}`))}</option>`).join('')}</select>
    <label>${esc(t('job.signHere'))}</label>
    <canvas class="signature-pad" id="signature-pad" aria-label="${esc(t('job.signHere'))}"></canvas>
    <div class="actions">
      <button type="button" class="secondary" id="sign-clear">${esc(t('job.signClear'))}</button>
      <button type="button" id="sign-save" data-offers="sign">${esc(t('job.signSave'))}</button>
    </div>
    ${errorSlot('sign')}
    <label for="no-sign-reason">${esc(t('job.noSignReason'))}</label>
    <div class="row"><select id="no-sign-reason" class="grow">${NO_SIGN_REASONS.map((r) => `<option value="${r}" ${r === reason ? 'selected' : ''}>${esc(t(`noSign.${r}`))}</option>`).join('')}</select>
    <button type="button" class="secondary" id="no-sign-save">${esc(t('job.noSignSave'))}</button></div>`;
}

/** Why the job came back, for the visit it started: the reason and the owner's score and words. */
function reopenedHtml(job) {
  const r = job.reopened;
  if (!r || r.visit !== job.visit || ['closed', 'cancelled'].includes(job.status)) return '';
  return `<section class="card reopened" id="reopened"><h3>${esc(t('job.reopenedTitle', { visit: r.visit }))}</h3>
    ${r.satisfaction ? `<p><strong>${esc(t('job.reopenedScore', { score: r.satisfaction }))}</strong></p>` : ''}
    ${r.comment ? `<p>“${esc(r.comment)}”</p>` : ''}
    ${r.reason ? `<p class="muted small">${esc(t('job.reopenedReason', { reason: r.reason }))}</p>` : ''}
    <p class="muted small">${esc(t('job.reopenedAgain'))}</p></section>`;
}

/** The control for each allowed action that has no form of its own, in the server's order. */
function actionControls(job, allowed) {
  return [...allowed]
    .filter((a) => !OWN_FORM.has(a))
    .map((a) => {
      const text = esc(t(`action.${a}`));
      if (a === 'callback') return `<a class="button secondary" data-offers="callback" href="#/callbacks">${text}</a>`;
      if (COMPLAINT_STEPS.has(a)) return `<a class="button secondary" data-offers="${a}" href="#/complaint/${esc(job.id)}">${text}</a>`;
      return `<button type="button" data-offers="${a}" data-action="${a}" class="${SECONDARY.has(a) ? 'secondary' : ''}">${text}</button>`;
    })
    .join('');
}

/** Show a refusal in the user's language next to the control it concerns (the field the server names). */
function showRefusal(root, problem, near) {
  const slot = root.querySelector(`[data-error-for="${problem.field}"]`) || root.querySelector(`[data-error-for="${near}"]`);
  if (!slot) return flash(root, 'job.refused', { detail: refusal(problem) });
  slot.textContent = refusal(problem);
  slot.hidden = false;
}

function clearRefusals(root) {
  for (const slot of root.querySelectorAll('[data-error-for]')) slot.hidden = true;
}

/**
 * What the completion still lacks, read from the server's `requirements` for this job (fields, after photos
 * of this visit including those queued here, required checks): the same refusals the server would give.
 */
function shortfalls(job, root, queued) {
  const req = job.requirements || {};
  const missing = [];
  const inputs = { workDone: '#work-done', cause: '#cause' };
  for (const field of req.fields || []) {
    const input = inputs[field] && root.querySelector(inputs[field]);
    if (input && !input.value.trim()) missing.push({ code: 'field_required', field });
  }
  const afterQueuedHere = queued.filter((p) => p.stage === 'after').length;
  if ((req.afterPhotosTaken || 0) + afterQueuedHere < (req.afterPhotos || 0)) missing.push({ code: 'after_photo_required', field: 'photos' });
  const ticked = new Set([...root.querySelectorAll('input[name="check"]:checked')].map((box) => box.value));
  if ((req.checklist || []).some((code) => !ticked.has(code))) missing.push({ code: 'checklist_incomplete', field: 'checklist' });
  return missing;
}

function tickCountdowns(root) {
  for (const el of root.querySelectorAll('[data-due]')) {
    const { overdue, text } = countdown(el.dataset.due);
    el.textContent = text;
    el.classList.toggle('overdue', overdue);
  }
}

function flash(root, key, params) {
  const box = root.querySelector('#job-message');
  if (!box) return;
  box.textContent = t(key, params);
  box.classList.remove('hidden');
}

async function afterSubmit(root, id, ctx, result, near) {
  // Already drawn from this answer; a queued one is redrawn when the outbox delivers it.
  if (result.state !== 'queued' && result.id !== undefined) ownEntries.add(result.id);
  busy = false;
  ctx.refreshBanner();
  if (result.state === 'conflict') ctx.refreshConflicts();
  await render(root, [id], ctx);
  if (result.state === 'queued') flash(root, 'job.queued');
  if (result.state === 'conflict') showRefusal(root, result.conflict, near);
}

/** Render a job by id. */
export async function render(root, params, ctx) {
  const id = params[0];
  const mine = ++generation;
  clearTimeout(rerender);
  let job;
  try {
    job = await getWorkOrder(id);
  } catch (error) {
    if (mine !== generation) return;
    const offline = error instanceof OfflineError;
    root.innerHTML = `<p class="card error">${esc(offline ? t('job.unavailableOffline') : error.status === 404 ? t('job.notFound') : t('jobs.failed'))}</p>`;
    return;
  }
  if (job.kind === 'complaint') {
    if (mine !== generation) return;
    delegate = await import('./complaint.js');
    return delegate.render(root, params, ctx, job);
  }
  await draftWrites;
  const [queued, draft] = await Promise.all([pendingEntries().catch(() => []), loadDraft(id).catch(() => ({}))]);
  const photosQueued = await queuedPhotos(id, queued);
  // The unit as kept on the phone (the job list keeps it fresh); read from the server only the first time.
  const unit = job.unitId ? savedUnit(job.unitId) || (await getUnit(job.unitId).catch(() => null)) : null;
  if (mine !== generation) return;
  clearInterval(timer);
  // The field being typed in keeps the cursor across the redraw.
  const focused = root.contains(document.activeElement) && document.activeElement.id ? document.activeElement : null;
  const caret = focused && typeof focused.selectionStart === 'number' ? [focused.selectionStart, focused.selectionEnd] : null;
  const pending = queuedFor(job, queued);
  const status = pending.status;
  const who = owner(job, unit);
  const deadline = nextDeadline(job);
  // The forms while the job is being worked on site; the completion button only while the server takes it.
  const onSite = pending.allowed.has('complete') || ['on_site', 'paused'].includes(status);
  const canSign = pending.allowed.has('sign') || pending.signature;
  const showReceipt = ['completed', 'signed', 'closed'].includes(job.status);
  const stage = likelyStage(job, photosQueued, draft);
  for (const url of thumbUrls) URL.revokeObjectURL(url);
  thumbUrls = [];

  root.innerHTML = `
    <section class="card">
      <div class="row"><span class="badge ${esc(String(job.priority).toLowerCase())}">${esc(job.priority)}</span>
        <span class="badge">${esc(tOr(`kind.${job.kind}`, job.kind))}</span>
        <span class="badge" id="job-status">${esc(tOr(`status.${status}`, status))}</span>
        ${pending.actions.length ? `<span class="badge pending">${esc(t('jobs.pending'))}</span>` : ''}</div>
      <h2>${esc(job.title)}</h2>
      ${job.offlineCopy ? `<p class="muted small" id="offline-copy">${esc(t('job.offlineCopy', { time: formatDateTime(job.savedAt) }))}</p>` : ''}
      ${deadline ? `<p class="countdown" data-due="${esc(deadline.dueAt)}"></p>` : ''}
      <dl class="facts">
        <dt>${esc(t('job.number'))}</dt><dd>${esc(job.number || '')}</dd>
        <dt>${esc(t('job.category'))}</dt><dd>${esc(tOr(`category.${job.category}`, job.category || ''))}</dd>
        <dt>${esc(t('job.unit'))}</dt><dd>${esc(unitLabel(job) || '—')}</dd>
        <dt>${esc(t('job.location'))}</dt><dd>${esc(job.location || '—')}</dd>
        ${appointmentHtml(job)}
        <dt>${esc(t('job.owner'))}</dt><dd>${who ? `${esc(who.name || '')} ${who.phone ? `<a class="button secondary" id="call-owner" href="tel:${esc(who.phone)}">${esc(t('job.call'))} ${esc(who.phone)}</a>` : esc(who.masked || '')}` : '—'}</dd>
        <dt>${esc(t('job.description'))}</dt><dd>${esc(job.description || '—')}</dd>
      </dl>
      <p id="job-message" class="banner queued hidden" role="status"></p>
      <div class="actions" id="job-actions">${actionControls(job, pending.allowed)}</div>
      ${errorSlot('steps')}
      <div id="assign-box"></div>
    </section>
    ${reopenedHtml(job)}
    <div id="job-safety"></div>
    ${
      onSite || (job.photos || []).length || photosQueued.length
        ? `<section class="card" id="photos-card"><h3>${esc(t('job.photos'))}</h3>
      ${photosHtml(job, photosQueued)}
      ${pending.photos ? `<p class="badge pending">${esc(t('job.photosPending', { count: pending.photos }))}</p>` : ''}
      ${
        onSite
          ? `<label for="photo-stage">${esc(t('job.photoStage'))}</label>
      <select id="photo-stage">${STAGES.map((s) => `<option value="${s}" ${s === stage ? 'selected' : ''}>${esc(t(`stage.${s}`))}</option>`).join('')}</select>
      <label class="button secondary" for="photo-input">${esc(t('job.takePhoto'))}</label>
      <input id="photo-input" class="hidden" type="file" accept="image/*" capture="environment">
      ${errorSlot('photos')}`
          : ''
      }
    </section>`
        : ''
    }
    ${
      onSite
        ? `<section class="card checklist"><h3>${esc(t('job.checklist'))}</h3>${checklistHtml(job, draft)}
      ${errorSlot('checklist')}
      <label for="cause">${esc(t('job.cause'))}</label><input id="cause" value="${esc(draft.cause || '')}">
      ${errorSlot('cause')}
      <label for="work-done">${esc(t('job.workDone'))}</label><textarea id="work-done" rows="2">${esc(draft.workDone || '')}</textarea>
      ${errorSlot('workDone')}
      ${pending.allowed.has('complete') ? `<div class="actions"><button type="button" id="complete" data-offers="complete">${esc(t('action.complete'))}</button></div>` : ''}
      ${errorSlot('complete')}
    </section>`
        : ''
    }
    ${canSign ? `<section class="card"><h3>${esc(t('job.signature'))}</h3>${signatureHtml(job, pending, draft)}</section>` : ''}
    ${showReceipt ? `<section class="card"><a class="button secondary" href="#/receipt/${esc(job.id)}">${esc(t('job.receipt'))}</a></section>` : ''}
    <section class="card"><h3>${esc(t('job.clocks'))}</h3><ul class="history">${clocksHtml(job) || `<li class="muted">—</li>`}</ul></section>
    <section class="card"><h3>${esc(t('job.history'))}</h3>${historyHtml(job)}</section>
    ${promisesHtml(job)}
    <div id="job-notice"></div>
    <section class="card" id="owner-messages" hidden></section>
    ${relatedHtml(job)}`;
  const ownEntry = (entryId) => ownEntries.add(entryId);
  mountCaseMessages(root.querySelector('#owner-messages'), job, ctx.user, ownEntry);
  mountJobNotice(root.querySelector('#job-notice'), job, ctx.user, () => mountCaseMessages(root.querySelector('#owner-messages'), job, ctx.user, ownEntry));

  if (focused) {
    const again = root.querySelector(`#${CSS.escape(focused.id)}`);
    if (again) {
      again.focus();
      if (caret && typeof again.selectionStart === 'number') again.setSelectionRange(...caret);
    }
  }
  showThumbnails(root, job, photosQueued);
  wirePromises(root, job);
  mountJobSafety(root.querySelector('#job-safety'), job);

  for (const button of root.querySelectorAll('[data-action]')) {
    button.addEventListener('click', async () => {
      const action = button.dataset.action;
      clearRefusals(root);
      if (action === 'assign') {
        renderAssign(root.querySelector('#assign-box'), job, job.siteId, (result) => {
          if (result.state !== 'conflict') afterSubmit(root, id, ctx, result, 'steps');
        });
        return;
      }
      const fields = { geo: await currentGeo(500) };
      if (REASON_ACTIONS.has(action)) {
        const reason = prompt(t('job.reasonFor', { action: t(`action.${action}`) }));
        if (!reason || !reason.trim()) return;
        fields.reason = reason.trim();
      }
      button.disabled = true;
      busy = true;
      const result = await workOrderAction(id, action, fields);
      await afterSubmit(root, id, ctx, result, 'steps');
    });
  }

  // Every keystroke and tick goes to the draft at once.
  const checklistState = () => Object.fromEntries([...root.querySelectorAll('input[name="check"]')].map((box) => [box.value, box.checked]));
  const remember = {
    '#cause': () => ({ cause: root.querySelector('#cause').value }),
    '#work-done': () => ({ workDone: root.querySelector('#work-done').value }),
    '#signer-name': () => ({ signerName: root.querySelector('#signer-name').value }),
    '#signer-relation': () => ({ relation: root.querySelector('#signer-relation').value }),
    '#no-sign-reason': () => ({ noSignReason: root.querySelector('#no-sign-reason').value }),
  };
  for (const [selector, fields] of Object.entries(remember)) {
    const input = root.querySelector(selector);
    if (input) input.addEventListener(input.tagName === 'SELECT' ? 'change' : 'input', () => keepDraft(id, fields()));
  }
  for (const box of root.querySelectorAll('input[name="check"]')) {
    box.addEventListener('change', () => keepDraft(id, { checklist: checklistState() }));
  }

  const photoInput = root.querySelector('#photo-input');
  if (photoInput) {
    photoInput.addEventListener('change', async () => {
      const file = photoInput.files[0];
      if (!file) return;
      clearRefusals(root);
      const clientAt = new Date().toISOString();
      busy = true;
      const jpeg = await resizePhoto(file);
      const result = await uploadPhoto(id, jpeg, root.querySelector('#photo-stage').value, clientAt);
      await afterSubmit(root, id, ctx, result, 'photos');
    });
  }

  const complete = root.querySelector('#complete');
  if (complete) {
    complete.addEventListener('click', async () => {
      clearRefusals(root);
      const missing = shortfalls(job, root, photosQueued);
      if (missing.length) {
        for (const problem of missing) showRefusal(root, problem, 'complete');
        root.querySelector(`[data-error-for="${missing[0].field}"]`)?.scrollIntoView({ block: 'center' });
        return;
      }
      complete.disabled = true;
      busy = true;
      const result = await workOrderAction(id, 'complete', {
        geo: await currentGeo(500),
        checklist: checklistState(),
        cause: root.querySelector('#cause').value.trim(),
        workDone: root.querySelector('#work-done').value.trim(),
      });
      // Sent or waiting in the outbox: the typed words travel with it and the draft has served.
      if (result.state !== 'conflict') {
        draftWrites = draftWrites.then(() => saveDraft(id, { checklist: undefined, cause: '', workDone: '' })).catch(() => undefined);
      }
      await afterSubmit(root, id, ctx, result, 'complete');
    });
  }

  const canvas = root.querySelector('#signature-pad');
  if (canvas) {
    // The canvas must match its CSS size at the device's pixel ratio, or strokes land offset and blurry.
    const ratio = Math.max(window.devicePixelRatio || 1, 1);
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext('2d').scale(ratio, ratio);
    pad = new SignaturePad(canvas, { penColor: '#000000', backgroundColor: '#ffffff', minWidth: 1, maxWidth: 3 });
    if (draft.strokes && draft.strokes.length) pad.fromData(draft.strokes);
    pad.addEventListener('endStroke', () => keepDraft(id, { strokes: pad.toData() }));
    root.querySelector('#sign-clear').addEventListener('click', () => {
      pad.clear();
      keepDraft(id, { strokes: [] });
    });
    root.querySelector('#sign-save').addEventListener('click', async () => {
      clearRefusals(root);
      const signerName = root.querySelector('#signer-name').value.trim();
      if (!signerName) return flash(root, 'job.signerNameRequired');
      if (pad.isEmpty()) return flash(root, 'job.signatureRequired');
      busy = true;
      const png = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
      const result = await signWorkOrder(id, { png, signerName, relation: root.querySelector('#signer-relation').value });
      if (result.state !== 'conflict') await forget(id);
      await afterSubmit(root, id, ctx, result, 'sign');
    });
    root.querySelector('#no-sign-save').addEventListener('click', async () => {
      clearRefusals(root);
      busy = true;
      const result = await signWorkOrder(id, { noSignReason: root.querySelector('#no-sign-reason').value });
      if (result.state !== 'conflict') await forget(id);
      await afterSubmit(root, id, ctx, result, 'sign');
    });
  }

  tickCountdowns(root);
  timer = setInterval(() => {
    tickCountdowns(root);
    tickChecklist(root);
  }, 1000);
  // When a queued action for this job is delivered or refused (after the network returns), show the truth.
  if (stopListening) stopListening();
  stopListening = onOutboxMessage((message) => {
    // a reply to the owners redraws its own card; its news may arrive before the card has said it is its own
    const ownersCard = typeof message.url === 'string' && message.url.endsWith('/owner-messages');
    if ((message.type === 'delivered' || message.type === 'conflict') && message.jobId === id && !busy && !ownEntries.has(message.id) && !ownersCard) {
      clearTimeout(rerender);
      rerender = setTimeout(() => render(root, [id], ctx), 300);
    }
  });
}

/** The visit is signed (or why not is recorded): nothing of it is left to keep. */
function forget(id) {
  draftWrites = draftWrites.then(() => clearDraft(id)).catch(() => undefined);
  return draftWrites;
}

/** Stop timers and release the signature pad and the thumbnails. */
export function unmount() {
  generation += 1;
  if (delegate) delegate.unmount();
  delegate = null;
  clearInterval(timer);
  clearTimeout(rerender);
  if (stopListening) stopListening();
  stopListening = null;
  if (pad) pad.off();
  pad = null;
  for (const url of thumbUrls) URL.revokeObjectURL(url);
  thumbUrls = [];
}
