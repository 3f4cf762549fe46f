/**
 * Safety on the job screen: the emergency plan's timed checklist on an emergency job, and "hazard found"
 * (主动排查其他隐患) — place, risk level, note, photo — sent through the outbox (once, even with no signal) as
 * a hazard linked to the job, with the job's hazards listed under it. The photo waits in the outbox right
 * behind the hazard (api.js createHazard), so it reaches the hazard even when this screen is long closed.
 */

import { createHazard, listHazards, welfareVisits, workOrderChecklist } from '../api.js';
import { esc } from '../format.js';
import { refusal, t } from '../i18n.js';
import { bindChecklist, checklistHtml, tickChecklist } from './emergency_plan.js';
import { resizePhoto } from './job.js';

const RISKS = ['major', 'high', 'medium', 'low'];

let state = { plan: null, welfare: null, queued: new Set(), found: [], sent: [] };

function hazardsHtml() {
  const rows = [
    ...state.found.map(
      (h) => `<li data-job-hazard="${esc(h.id)}"><a href="#/hazards/${esc(h.id)}">${esc(h.number)} · ${esc(h.place)}</a>
        <span class="badge risk-${esc(h.riskLevel)}">${esc(t(`hazard.risk.${h.riskLevel}`))}</span>
        <span class="badge">${esc(t(`hazard.status.${h.status}`))}</span></li>`,
    ),
    ...state.sent.map(
      (h) => `<li data-job-hazard-queued><span>${esc(h.place)}</span> <span class="badge pending">${esc(t('hazard.queued'))}</span></li>`,
    ),
  ];
  return rows.length ? `<ul class="history">${rows.join('')}</ul>` : '';
}

function formHtml(job) {
  return `<form class="hidden" id="job-hazard-form">
      <label for="job-hazard-place">${esc(t('hazard.place'))}</label>
      <input id="job-hazard-place" maxlength="200" required value="${esc(job.location || '')}">
      <label for="job-hazard-risk">${esc(t('hazard.riskLevel'))}</label>
      <select id="job-hazard-risk">${RISKS.map((r) => `<option value="${r}" ${r === 'medium' ? 'selected' : ''}>${esc(t(`hazard.risk.${r}`))}</option>`).join('')}</select>
      <label for="job-hazard-note">${esc(t('jobHazard.note'))}</label>
      <textarea id="job-hazard-note" rows="3" maxlength="4000" required></textarea>
      <label class="button secondary" for="job-hazard-photo">${esc(t('jobHazard.photo'))}</label>
      <input id="job-hazard-photo" class="hidden" type="file" accept="image/*" capture="environment">
      <p class="muted small" id="job-hazard-photo-name"></p>
      <p class="field-error" id="job-hazard-error" hidden></p>
      <div class="actions"><button type="submit" id="job-hazard-send">${esc(t('hazard.register'))}</button></div>
    </form>`;
}

function draw(el, job) {
  el.innerHTML = `
    ${state.plan ? `<section class="card" id="job-plan">${checklistHtml(state.plan, { welfare: state.welfare, queued: state.queued })}</section>` : ''}
    <section class="card" id="job-hazards">
      <div class="row"><h3 class="grow">${esc(t('jobHazard.title'))}</h3>
        <button type="button" class="secondary" id="job-hazard-open">${esc(t('jobHazard.found'))}</button></div>
      ${formHtml(job)}
      <div id="job-hazard-list">${hazardsHtml()}</div>
    </section>`;
  bindChecklist(el, async (stepId, result) => {
    if (result.state === 'delivered' && result.body) state.plan = result.body;
    else if (result.state === 'queued') state.queued.add(stepId);
    else state.plan = await workOrderChecklist(job.id).catch(() => state.plan);
    draw(el, job);
  });
  tickChecklist(el);
  el.querySelector('#job-hazard-open').addEventListener('click', () => {
    el.querySelector('#job-hazard-form').classList.toggle('hidden');
    el.querySelector('#job-hazard-note').focus();
  });
  el.querySelector('#job-hazard-photo').addEventListener('change', (event) => {
    const file = event.target.files[0];
    el.querySelector('#job-hazard-photo-name').textContent = file ? t('jobHazard.photoChosen') : '';
  });
  el.querySelector('#job-hazard-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const send = el.querySelector('#job-hazard-send');
    const place = el.querySelector('#job-hazard-place').value.trim();
    const description = el.querySelector('#job-hazard-note').value.trim();
    const error = el.querySelector('#job-hazard-error');
    if (!place || !description) {
      error.textContent = t('jobHazard.needed');
      error.hidden = false;
      return;
    }
    send.disabled = true;
    const file = el.querySelector('#job-hazard-photo').files[0];
    const photo = file ? await resizePhoto(file) : null;
    const fields = { place, description, riskLevel: el.querySelector('#job-hazard-risk').value, workOrderId: job.id, site: job.siteId };
    const outcome = await createHazard(fields, photo);
    if (outcome.state === 'conflict') {
      send.disabled = false;
      error.textContent = refusal(outcome.conflict);
      error.hidden = false;
      return;
    }
    if (outcome.state === 'delivered' && outcome.body) {
      state.found = [outcome.body, ...state.found];
    } else {
      state.sent = [{ place, photo: Boolean(photo) }, ...state.sent];
    }
    draw(el, job);
  });
}

/** Fill `el` for this job; returns a function that keeps the step countdowns running. */
export async function mountJobSafety(el, job) {
  state = { plan: null, welfare: null, queued: new Set(), found: [], sent: [] };
  if (!el) return () => {};
  const [plan, found] = await Promise.all([
    job.kind === 'emergency' ? workOrderChecklist(job.id).catch(() => null) : null,
    listHazards({ workOrderId: job.id, limit: 50 }).catch(() => null),
  ]);
  state.plan = plan;
  state.found = found ? found.items : [];
  if (plan && plan.welfareVisits && plan.alarmId) state.welfare = await welfareVisits(plan.alarmId).catch(() => null);
  draw(el, job);
  return () => tickChecklist(el);
}
