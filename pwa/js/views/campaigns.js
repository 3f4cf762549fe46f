/**
 * The campaign worklist (回访活动) under the callback queue: the month's routine sample of units and the
 * move-in calls, earliest due first. For each the agent calls the home, then records what happened —
 * reached (with satisfaction 1-5 if the resident gives one), no answer, or refused — with notes, and when a
 * reached resident raises a problem, a follow-up job for the home. Nothing is preselected.
 */

import { listCampaignCalls, recordCampaignOutcome } from '../api.js';
import { esc, formatDateTime } from '../format.js';
import { choices, label, refusal, t } from '../i18n.js';

const OUTCOMES = ['reached', 'no_answer', 'refused'];
const SCORES = [5, 4, 3, 2, 1];

/** A routine call is due by the first instant of next month: shown as the month's last minute (12/31 23:59). */
function lastMinute(iso) {
  return new Date(new Date(iso).getTime() - 60_000).toISOString();
}

function card(call) {
  const id = call.id;
  const categories = (choices().categories || {}).repair || [];
  return `<section class="card campaign-call" data-campaign-call="${esc(id)}">
      <div class="row"><span class="badge">${esc(t(`campaign.${call.campaign}`))}</span>
        <span class="muted small" data-campaign-due>${esc(t('callbacks.due', { time: formatDateTime(call.campaign === 'routine_sample' ? lastMinute(call.dueAt) : call.dueAt) }))}</span></div>
      <div class="job-title">${esc(call.unitLabel || '')}</div>
      ${call.residentName ? `<div class="muted small">${esc(t('campaign.newResident', { name: call.residentName }))}</div>` : ''}
      <div class="row phones">${call.ownerPhone
        ? `<a class="button secondary" href="tel:${esc(call.ownerPhone)}">${esc(t('job.call'))} ${esc(call.ownerName || '')} ${esc(call.ownerPhone)}</a>`
        : `<p class="muted">${esc(t('callbacks.noPhone'))}</p>`}</div>
      <fieldset class="choice"><legend>${esc(t('campaign.outcomeQuestion'))}</legend>
        ${OUTCOMES.map((o) => `<label class="checklist"><input type="radio" name="outcome-${esc(id)}" value="${o}" data-outcome> ${esc(t(`campaign.outcome.${o}`))}</label>`).join('')}
      </fieldset>
      <div data-reached-only hidden>
        <label for="campaign-score-${esc(id)}">${esc(t('callbacks.satisfaction'))}</label>
        <select id="campaign-score-${esc(id)}" data-campaign-score><option value="">${esc(t('callbacks.notAsked'))}</option>${SCORES.map((n) => `<option value="${n}">${n} · ${esc(t(`satisfaction.${n}`))}</option>`).join('')}</select>
        <label class="checklist"><input type="checkbox" data-problem> ${esc(t('campaign.problemRaised'))}</label>
        <div data-problem-fields hidden>
          <label for="campaign-category-${esc(id)}">${esc(t('intake.category'))}</label>
          <select id="campaign-category-${esc(id)}" data-problem-category>${categories.map((c) => `<option value="${esc(c)}">${esc(label('category', c))}</option>`).join('')}</select>
          <label for="campaign-problem-${esc(id)}">${esc(t('campaign.problemTitle'))}</label>
          <input id="campaign-problem-${esc(id)}" maxlength="200" data-problem-title>
        </div>
      </div>
      <label for="campaign-notes-${esc(id)}">${esc(t('campaign.notes'))}</label>
      <input id="campaign-notes-${esc(id)}" maxlength="4000" data-campaign-notes>
      <p class="form-error" data-campaign-error role="alert" hidden></p>
      <div class="actions"><button type="button" data-campaign-record>${esc(t('callbacks.record'))}</button></div>
      <p class="muted small hidden" data-campaign-result></p>
    </section>`;
}

function readOutcome(el) {
  const chosen = el.querySelector('[data-outcome]:checked');
  if (!chosen) return t('campaign.sayOutcome');
  const body = { outcome: chosen.value, notes: el.querySelector('[data-campaign-notes]').value.trim() };
  if (chosen.value === 'reached') {
    const score = el.querySelector('[data-campaign-score]').value;
    if (score) body.satisfaction = Number(score);
    if (el.querySelector('[data-problem]').checked) {
      const title = el.querySelector('[data-problem-title]').value.trim();
      if (!title) return t('campaign.sayProblem');
      body.followUp = { kind: 'repair', category: el.querySelector('[data-problem-category]').value, title };
    }
  }
  return body;
}

function wire(el, ctx) {
  const reachedOnly = el.querySelector('[data-reached-only]');
  for (const radio of el.querySelectorAll('[data-outcome]')) {
    radio.addEventListener('change', () => {
      reachedOnly.hidden = el.querySelector('[data-outcome]:checked').value !== 'reached';
    });
  }
  el.querySelector('[data-problem]').addEventListener('change', (event) => {
    el.querySelector('[data-problem-fields]').hidden = !event.target.checked;
  });
  const error = el.querySelector('[data-campaign-error]');
  el.querySelector('[data-campaign-record]').addEventListener('click', async (event) => {
    const body = readOutcome(el);
    error.hidden = typeof body !== 'string';
    if (typeof body === 'string') {
      error.textContent = body;
      return;
    }
    event.target.disabled = true;
    const result = await recordCampaignOutcome(el.dataset.campaignCall, body);
    const out = el.querySelector('[data-campaign-result]');
    out.classList.remove('hidden');
    if (result.state === 'conflict') {
      out.textContent = refusal(result.conflict);
      event.target.disabled = false;
      ctx.refreshConflicts();
      return;
    }
    const job = result.body && result.body.followUpNumber;
    out.textContent = result.state === 'delivered' ? t('campaign.recorded', { outcome: t(`campaign.outcome.${body.outcome}`) }) + (job ? ` · ${t('campaign.followUpOpened', { number: job })}` : '') : t('job.queued');
  });
}

/** Fill `box` with the site's campaign worklist. */
export async function renderCampaigns(box, ctx) {
  let page;
  try {
    page = await listCampaignCalls({ site: ctx.user.siteIds[0] });
  } catch {
    box.innerHTML = `<h2>${esc(t('campaign.title'))}</h2><p class="card error">${esc(t('callbacks.unavailable'))}</p>`;
    return;
  }
  const more = page.total > page.items.length ? `<p class="muted small">${esc(t('callbacks.more', { shown: page.items.length, total: page.total }))}</p>` : '';
  box.innerHTML = `<h2 id="campaign-title">${esc(t('campaign.title'))} (${page.total})</h2>
    <p class="muted small">${esc(t('campaign.rule'))}</p>
    ${page.items.map(card).join('') || `<p class="card muted">${esc(t('campaign.none'))}</p>`}${more}`;
  for (const el of box.querySelectorAll('[data-campaign-call]')) wire(el, ctx);
}
