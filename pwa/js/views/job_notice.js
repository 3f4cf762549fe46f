/**
 * On the job screen of a job on shared plant (a lift, a pump, a transformer): "tell the residents". The desk
 * or a supervisor says what the work interrupts (停水 / 停电 / 停梯) and when; every resident of the asset's
 * building is told once by SMS, and once more ("restored") when the job is completed or cancelled. Once told,
 * the card shows the notice; the messages themselves are in the case's owner-messages history below.
 */

import { jobResidentNotice, tellResidents } from '../api.js';
import { esc, formatDateTime, fromSiteInput, toSiteInput } from '../format.js';
import { label, refusal, t } from '../i18n.js';

const MARKERS = new Set(['agent', 'supervisor', 'manager', 'admin']);
const KINDS = ['water', 'power', 'lift'];
// the work is done or over: nothing more to announce
const CLOSED = new Set(['completed', 'signed', 'closed', 'cancelled']);
const HOUR_MS = 3600000;

function noticeHtml(notice) {
  const state = notice.restoredAt
    ? `<span class="badge ready" data-notice-restored>${esc(t('jobNotice.restored', { time: formatDateTime(notice.restoredAt) }))}</span>`
    : `<span class="badge" data-notice-open>${esc(t('jobNotice.open'))}</span>`;
  return `<div data-notice="${esc(notice.id)}">
      <p><strong>${esc(label('outageKind', notice.kind))}</strong> · ${esc(notice.building)}</p>
      <p>${esc(formatDateTime(notice.startsAt))} – ${esc(formatDateTime(notice.endsAt))}</p>
      ${notice.note ? `<p class="muted">${esc(notice.note)}</p>` : ''}
      <p class="muted small" data-notice-count>${esc(t('jobNotice.told', { count: notice.recipients }))}</p>
      ${state}
    </div>`;
}

function formHtml() {
  const start = new Date(Date.now() + HOUR_MS).toISOString();
  const end = new Date(Date.now() + 4 * HOUR_MS).toISOString();
  return `<form data-notice-form>
      <fieldset class="choice"><legend>${esc(t('jobNotice.what'))}</legend>
        ${KINDS.map((k, i) => `<label class="checklist"><input type="radio" name="kind" value="${k}" ${i === 0 ? 'checked' : ''}>${esc(label('outageKind', k))}</label>`).join('')}
      </fieldset>
      <label for="notice-start">${esc(t('outages.start'))}</label><input id="notice-start" name="start" type="datetime-local" required value="${esc(toSiteInput(start))}">
      <label for="notice-end">${esc(t('outages.end'))}</label><input id="notice-end" name="end" type="datetime-local" required value="${esc(toSiteInput(end))}">
      <label for="notice-note">${esc(t('outages.note'))}</label><input id="notice-note" name="note" maxlength="200">
      <div class="actions"><button type="submit" data-notice-send>${esc(t('jobNotice.send'))}</button>
        <button type="button" class="secondary" data-notice-cancel>${esc(t('guard.cancel'))}</button></div>
      <p class="hint" data-notice-result role="status"></p>
    </form>`;
}

/**
 * Draw the card into `box` for a job on an asset; `onTold` runs after a notice is delivered (the screen
 * reads the case's messages again).
 */
export async function mountJobNotice(box, job, user, onTold) {
  if (!box || !job.assetId || !user) return;
  const notice = await jobResidentNotice(job.id).catch(() => null);
  const mayTell = MARKERS.has(user.role) && !CLOSED.has(job.status);
  if (!notice && !mayTell) {
    box.innerHTML = '';
    return;
  }
  const heading = `<h3>${esc(t('jobNotice.title'))}</h3>`;
  if (notice) {
    box.innerHTML = `<section class="card" data-job-notice>${heading}${noticeHtml(notice)}</section>`;
    return;
  }
  box.innerHTML = `<section class="card" data-job-notice>${heading}
      <p class="muted">${esc(t('jobNotice.hint'))}</p>
      <button type="button" class="secondary" data-notice-open-form>${esc(t('jobNotice.openForm'))}</button></section>`;
  box.querySelector('[data-notice-open-form]').addEventListener('click', () => {
    const card = box.querySelector('[data-job-notice]');
    card.innerHTML = `${heading}${formHtml()}`;
    card.querySelector('[data-notice-cancel]').addEventListener('click', () => mountJobNotice(box, job, user, onTold));
    const form = card.querySelector('[data-notice-form]');
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      form.querySelector('[data-notice-send]').disabled = true;
      const result = await tellResidents(job.id, {
        kind: form.elements.kind.value,
        startsAt: fromSiteInput(form.elements.start.value),
        endsAt: fromSiteInput(form.elements.end.value),
        note: form.elements.note.value.trim(),
      });
      const hint = form.querySelector('[data-notice-result]');
      if (result.state === 'conflict') {
        form.querySelector('[data-notice-send]').disabled = false;
        hint.textContent = refusal(result.conflict);
        return;
      }
      if (result.state === 'queued') {
        hint.textContent = t('outages.queued');
        return;
      }
      await mountJobNotice(box, job, user, onTold);
      if (onTold) onTold();
    });
  });
}
