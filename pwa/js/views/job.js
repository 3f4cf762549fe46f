/**
 * One job, on site: facts, tap-to-call, the action buttons its status allows, photos (resized on the phone),
 * the checklist, completion, the owner's signature (signature_pad) or the reason nobody signed, and history.
 *
 * Works offline: actions are queued in the outbox and their effect is shown at once (marked as waiting).
 */

import SignaturePad from '../../vendor/signature_pad/signature_pad.js';
import { afterQueued, currentGeo, getUnit, getWorkOrder, nextDeadline, signWorkOrder, unitLabel, uploadPhoto, workOrderAction } from '../api.js';
import { countdown, esc, formatDateTime } from '../format.js';
import { currentLocale, t, tOr } from '../i18n.js';
import { onOutboxMessage, pendingEntries } from '../outbox.js';

// Photos larger than this are scaled down on the phone: enough to read a meter, cheap on a weak signal.
const MAX_PHOTO_EDGE = 1600;
const JPEG_QUALITY = 0.85;

// The steps shown as buttons at the top; which of them appear is the server's `allowedActions`.
const STEP_BUTTONS = ['accept', 'decline', 'depart', 'arrive', 'pause', 'resume'];
const RELATIONS = ['owner', 'tenant', 'family', 'agent'];
const NO_SIGN_REASONS = ['owner_absent', 'public_area', 'refused', 'other'];
const STAGES = ['before', 'during', 'after'];

let timer = null;
let pad = null;
let stopListening = null;
let rerender = null;
// True while this view submits an action itself: its own delivery must not trigger a second render.
let busy = false;
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

function clocksHtml(job) {
  return (job.clocks || [])
    .map((c) => {
      const met = c.state === 'met' || c.metAt;
      return `<li>${esc(tOr(`clock.${c.clock}`, c.clock))}: ${esc(formatDateTime(c.dueAt))}
        ${met ? `<span class="badge">${esc(t('job.clockMet'))}</span>` : `<span class="countdown" data-due="${esc(c.dueAt)}"></span>`}</li>`;
    })
    .join('');
}

function historyHtml(job) {
  const events = job.events || [];
  if (!events.length) return `<p class="muted">${esc(t('job.noHistory'))}</p>`;
  return `<ul class="history">${events
    .map(
      (e) => `<li><span class="muted small">${esc(formatDateTime(e.at))}</span>
        ${esc(tOr(`action.${e.action}`, e.action))} → ${esc(tOr(`status.${e.toStatus}`, e.toStatus || ''))}
        ${e.actorName ? `<span class="muted small">· ${esc(e.actorName)}</span>` : ''}
        ${e.clientAt ? `<span class="muted small">· ${esc(t('job.clientAt', { time: formatDateTime(e.clientAt) }))}</span>` : ''}</li>`,
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

function photosHtml(job) {
  const photos = job.photos || [];
  if (!photos.length) return '';
  return `<div class="photos">${photos
    .map((p) => `<span class="muted small">${esc(tOr(`stage.${p.stage}`, p.stage))}</span>`)
    .join(' ')}</div>`;
}

function checklistHtml(job) {
  const items = job.checklist || [];
  if (!items.length) return `<p class="muted">${esc(t('job.noChecklist'))}</p>`;
  const done = (job.resolution && job.resolution.checklist) || {};
  return items
    .map(
      (item) => `<label><input type="checkbox" name="check" value="${esc(item.code)}" ${done[item.code] || item.done ? 'checked' : ''}>
        <span>${esc(checklistLabel(item))}${item.required === false ? ` <span class="muted small">(${esc(t('job.optional'))})</span>` : ''}</span></label>`,
    )
    .join('');
}

function signatureHtml(job, pending) {
  if (job.signature || pending.signature) {
    const s = job.signature || {};
    return `<p class="badge">${esc(pending.signature && !job.signature ? t('job.signaturePending') : t('job.signed', { name: s.signerName || tOr(`noSign.${s.noSignReason}`, '') }))}</p>`;
  }
  return `
    <label for="signer-name">${esc(t('job.signerName'))}</label>
    <input id="signer-name" autocomplete="off">
    <label for="signer-relation">${esc(t('job.relation'))}</label>
    <select id="signer-relation">${RELATIONS.map((r) => `<option value="${r}">${esc(t(`relation.${r}`))}</option>`).join('')}</select>
    <label>${esc(t('job.signHere'))}</label>
    <canvas class="signature-pad" id="signature-pad" aria-label="${esc(t('job.signHere'))}"></canvas>
    <div class="actions">
      <button type="button" class="secondary" id="sign-clear">${esc(t('job.signClear'))}</button>
      <button type="button" id="sign-save">${esc(t('job.signSave'))}</button>
    </div>
    <label for="no-sign-reason">${esc(t('job.noSignReason'))}</label>
    <div class="row"><select id="no-sign-reason" class="grow">${NO_SIGN_REASONS.map((r) => `<option value="${r}">${esc(t(`noSign.${r}`))}</option>`).join('')}</select>
    <button type="button" class="secondary" id="no-sign-save">${esc(t('job.noSignSave'))}</button></div>`;
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

async function afterSubmit(root, id, ctx, result) {
  busy = false;
  ctx.refreshBanner();
  if (result.state === 'conflict') ctx.refreshConflicts();
  await render(root, [id], ctx);
  if (result.state === 'queued') flash(root, 'job.queued');
  if (result.state === 'conflict') flash(root, 'job.refused', { detail: result.conflict.detail || '' });
}

/** Render a job by id. */
export async function render(root, params, ctx) {
  const id = params[0];
  clearInterval(timer);
  let job;
  try {
    job = await getWorkOrder(id);
  } catch (error) {
    root.innerHTML = `<p class="card error">${esc(error.status === 404 ? t('job.notFound') : t('job.unavailableOffline'))}</p>`;
    return;
  }
  if (job.kind === 'complaint') {
    delegate = await import('./complaint.js');
    return delegate.render(root, params, ctx, job);
  }
  const queued = await pendingEntries().catch(() => []);
  const unit = job.unitId ? await getUnit(job.unitId).catch(() => null) : null;
  const pending = queuedFor(job, queued);
  const status = pending.status;
  const who = owner(job, unit);
  const deadline = nextDeadline(job);
  const buttons = STEP_BUTTONS.filter((a) => pending.allowed.has(a))
    .map((a) => `<button type="button" data-action="${a}" class="${a === 'decline' || a === 'pause' ? 'secondary' : ''}">${esc(t(`action.${a}`))}</button>`)
    .join('');
  // The completion form while the server would take a completion; the signature while it would take one.
  const onSite = pending.allowed.has('complete') || status === 'paused';
  const canSign = pending.allowed.has('sign') || pending.signature;
  const showReceipt = ['completed', 'signed', 'closed'].includes(job.status);

  root.innerHTML = `
    <section class="card">
      <div class="row"><span class="badge p${esc(job.priority)}">P${esc(job.priority)}</span>
        <span class="badge">${esc(tOr(`kind.${job.kind}`, job.kind))}</span>
        <span class="badge" id="job-status">${esc(tOr(`status.${status}`, status))}</span>
        ${pending.actions.length ? `<span class="badge pending">${esc(t('jobs.pending'))}</span>` : ''}</div>
      <h2>${esc(job.title)}</h2>
      ${deadline ? `<p class="countdown" data-due="${esc(deadline.dueAt)}"></p>` : ''}
      <dl class="facts">
        <dt>${esc(t('job.number'))}</dt><dd>${esc(job.number || '')}</dd>
        <dt>${esc(t('job.category'))}</dt><dd>${esc(tOr(`category.${job.category}`, job.category || ''))}</dd>
        <dt>${esc(t('job.unit'))}</dt><dd>${esc(unitLabel(job) || '—')}</dd>
        <dt>${esc(t('job.location'))}</dt><dd>${esc(job.location || '—')}</dd>
        <dt>${esc(t('job.owner'))}</dt><dd>${who ? `${esc(who.name || '')} ${who.phone ? `<a class="button secondary" id="call-owner" href="tel:${esc(who.phone)}">${esc(t('job.call'))} ${esc(who.phone)}</a>` : esc(who.masked || '')}` : '—'}</dd>
        <dt>${esc(t('job.description'))}</dt><dd>${esc(job.description || '—')}</dd>
      </dl>
      <p id="job-message" class="banner queued hidden" role="status"></p>
      <div class="actions">${buttons}</div>
    </section>
    ${
      onSite
        ? `<section class="card"><h3>${esc(t('job.photos'))}</h3>
      ${photosHtml(job)}
      ${pending.photos ? `<p class="badge pending">${esc(t('job.photosPending', { count: pending.photos }))}</p>` : ''}
      <label for="photo-stage">${esc(t('job.photoStage'))}</label>
      <select id="photo-stage">${STAGES.map((s) => `<option value="${s}" ${s === 'after' ? 'selected' : ''}>${esc(t(`stage.${s}`))}</option>`).join('')}</select>
      <label class="button secondary" for="photo-input">${esc(t('job.takePhoto'))}</label>
      <input id="photo-input" class="hidden" type="file" accept="image/*" capture="environment">
    </section>
    <section class="card checklist"><h3>${esc(t('job.checklist'))}</h3>${checklistHtml(job)}
      <label for="cause">${esc(t('job.cause'))}</label><input id="cause">
      <label for="work-done">${esc(t('job.workDone'))}</label><textarea id="work-done" rows="2"></textarea>
      <div class="actions"><button type="button" id="complete">${esc(t('action.complete'))}</button></div>
    </section>`
        : ''
    }
    ${canSign ? `<section class="card"><h3>${esc(t('job.signature'))}</h3>${signatureHtml(job, pending)}</section>` : ''}
    ${showReceipt ? `<section class="card"><a class="button secondary" href="#/receipt/${esc(job.id)}">${esc(t('job.receipt'))}</a></section>` : ''}
    <section class="card"><h3>${esc(t('job.clocks'))}</h3><ul class="history">${clocksHtml(job) || `<li class="muted">—</li>`}</ul></section>
    <section class="card"><h3>${esc(t('job.history'))}</h3>${historyHtml(job)}</section>
    ${relatedHtml(job)}`;

  for (const button of root.querySelectorAll('[data-action]')) {
    button.addEventListener('click', async () => {
      const action = button.dataset.action;
      const fields = { geo: await currentGeo(500) };
      if (action === 'decline') {
        const reason = prompt(t('job.declineReason'));
        if (!reason) return;
        fields.reason = reason;
      }
      button.disabled = true;
      busy = true;
      const result = await workOrderAction(id, action, fields);
      await afterSubmit(root, id, ctx, result);
    });
  }

  const photoInput = root.querySelector('#photo-input');
  if (photoInput) {
    photoInput.addEventListener('change', async () => {
      const file = photoInput.files[0];
      if (!file) return;
      const clientAt = new Date().toISOString();
      busy = true;
      const jpeg = await resizePhoto(file);
      const result = await uploadPhoto(id, jpeg, root.querySelector('#photo-stage').value, clientAt);
      await afterSubmit(root, id, ctx, result);
    });
  }

  const complete = root.querySelector('#complete');
  if (complete) {
    complete.addEventListener('click', async () => {
      const checklist = {};
      for (const box of root.querySelectorAll('input[name="check"]')) checklist[box.value] = box.checked;
      complete.disabled = true;
      busy = true;
      const result = await workOrderAction(id, 'complete', {
        geo: await currentGeo(500),
        checklist,
        cause: root.querySelector('#cause').value.trim(),
        workDone: root.querySelector('#work-done').value.trim(),
      });
      await afterSubmit(root, id, ctx, result);
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
    root.querySelector('#sign-clear').addEventListener('click', () => pad.clear());
    root.querySelector('#sign-save').addEventListener('click', async () => {
      const signerName = root.querySelector('#signer-name').value.trim();
      if (!signerName) return flash(root, 'job.signerNameRequired');
      if (pad.isEmpty()) return flash(root, 'job.signatureRequired');
      busy = true;
      const png = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
      const result = await signWorkOrder(id, { png, signerName, relation: root.querySelector('#signer-relation').value });
      await afterSubmit(root, id, ctx, result);
    });
    root.querySelector('#no-sign-save').addEventListener('click', async () => {
      busy = true;
      const result = await signWorkOrder(id, { noSignReason: root.querySelector('#no-sign-reason').value });
      await afterSubmit(root, id, ctx, result);
    });
  }

  tickCountdowns(root);
  timer = setInterval(() => tickCountdowns(root), 1000);
  // When a queued action for this job is delivered or refused (after the network returns), show the truth.
  if (stopListening) stopListening();
  stopListening = onOutboxMessage((message) => {
    if ((message.type === 'delivered' || message.type === 'conflict') && message.jobId === id && !busy) {
      clearTimeout(rerender);
      rerender = setTimeout(() => render(root, [id], ctx), 300);
    }
  });
}


/** Stop timers and release the signature pad. */
export function unmount() {
  if (delegate) delegate.unmount();
  delegate = null;
  clearInterval(timer);
  clearTimeout(rerender);
  if (stopListening) stopListening();
  stopListening = null;
  if (pad) pad.off();
  pad = null;
}
