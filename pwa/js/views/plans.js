/**
 * Planned maintenance (维保计划) for supervisors and managers: each plan of the user's sites — its asset and
 * place, how often, the next due day, how many days ahead its job is made — and what its work interrupts for
 * the building's residents. A plan set to tell them (停水 / 停电 / 停梯) announces each of its jobs ahead, by
 * SMS, for the hours the work takes (docs/OWNERS.md, "Building notices"). The setting is saved at once with
 * `PUT /maintenance-plans/{id}/resident-notice` (online: it is office work); a refusal keeps what was picked.
 */

import { maintenancePlans, setPlanNotice } from '../api.js';
import { esc } from '../format.js';
import { label, refusal, t } from '../i18n.js';

const PAGE_SIZE = 50;
const NOTICE_KINDS = ['water', 'power', 'lift'];

let plans = [];
let total = 0;

function howOften(plan) {
  return plan.intervalDays ? t('plans.everyDays', { days: plan.intervalDays }) : t('plans.cron', { cron: plan.cron || '' });
}

function noticeText(plan) {
  if (!plan.noticeKind) return t('plans.noticeOff');
  return t('plans.noticeOn', { kind: label('outageKind', plan.noticeKind), lead: plan.noticeLeadHours, hours: plan.noticeWindowHours });
}

function planHtml(plan) {
  const id = esc(plan.id);
  const kinds = ['', ...NOTICE_KINDS]
    .map((k) => `<option value="${k}" ${(plan.noticeKind || '') === k ? 'selected' : ''}>${esc(k ? label('outageKind', k) : t('plans.noNotice'))}</option>`)
    .join('');
  return `<li class="card" data-plan="${id}">
      <div class="row"><strong class="grow">${esc(plan.title)}</strong>${plan.active ? '' : `<span class="badge">${esc(t('plans.off'))}</span>`}</div>
      <p class="muted small">${esc([plan.assetName, plan.assetLocation].filter(Boolean).join(' · '))}</p>
      <dl class="facts">
        <dt>${esc(t('plans.howOften'))}</dt><dd>${esc(howOften(plan))}</dd>
        <dt>${esc(t('plans.nextDue'))}</dt><dd data-next-due>${esc(plan.nextDueOn)}</dd>
        <dt>${esc(t('plans.leadDays'))}</dt><dd>${esc(t('plans.days', { days: plan.leadDays }))}</dd>
        <dt>${esc(t('plans.notice'))}</dt><dd data-notice>${esc(noticeText(plan))}</dd>
      </dl>
      <details data-notice-edit>
        <summary class="button secondary">${esc(t('plans.editNotice'))}</summary>
        <form class="plan-notice-form" data-notice-form="${id}">
          <label for="notice-kind-${id}">${esc(t('plans.noticeKind'))}</label>
          <select id="notice-kind-${id}" name="kind">${kinds}</select>
          <label for="notice-lead-${id}">${esc(t('plans.noticeLead'))}</label>
          <input id="notice-lead-${id}" name="lead" type="number" inputmode="numeric" min="1" max="168" value="${esc(plan.noticeLeadHours)}" required>
          <label for="notice-window-${id}">${esc(t('plans.noticeWindow'))}</label>
          <input id="notice-window-${id}" name="window" type="number" inputmode="numeric" min="1" max="72" value="${esc(plan.noticeWindowHours)}" required>
          <p class="muted small">${esc(t('plans.noticeHint'))}</p>
          <div class="actions"><button type="submit">${esc(t('plans.save'))}</button></div>
          <p class="hint" data-notice-result role="status"></p>
        </form>
      </details>
    </li>`;
}

/** Add `items` under the cards already shown (an open form above keeps what was picked). */
function append(root, items) {
  const list = root.querySelector('#plan-list');
  list.insertAdjacentHTML('beforeend', items.map(planHtml).join(''));
  if (!plans.length) list.innerHTML = `<li class="card muted">${esc(t('plans.none'))}</li>`;
  root.querySelector('#plan-count').textContent = t('plans.count', { shown: plans.length, total });
  root.querySelector('#plan-more').hidden = plans.length >= total;
}

async function save(form) {
  const result = form.querySelector('[data-notice-result]');
  const button = form.querySelector('button[type=submit]');
  const fields = { kind: form.elements.kind.value || null, leadHours: Number(form.elements.lead.value), windowHours: Number(form.elements.window.value) };
  button.disabled = true;
  try {
    const saved = await setPlanNotice(form.dataset.noticeForm, fields);
    plans = plans.map((p) => (p.id === saved.planId ? { ...p, noticeKind: saved.kind, noticeLeadHours: saved.leadHours, noticeWindowHours: saved.windowHours } : p));
    const item = form.closest('[data-plan]');
    item.querySelector('[data-notice]').textContent = noticeText(plans.find((p) => p.id === saved.planId));
    result.className = 'hint';
    result.textContent = t('plans.saved');
  } catch (error) {
    // what was picked stays in the form, with the reason beside it
    result.className = 'form-error';
    result.textContent = error.problem && error.problem.code ? refusal(error.problem) : t('plans.offline');
  } finally {
    button.disabled = false;
  }
}

/** Render the plans, a page at a time. */
export async function render(root) {
  const page = await maintenancePlans({ limit: PAGE_SIZE });
  plans = page.items;
  total = page.total;
  root.innerHTML = `<h2>${esc(t('plans.title'))}</h2>
    <p class="muted">${esc(t('plans.intro'))}</p>
    <p class="muted small" id="plan-count"></p>
    <ul class="plain" id="plan-list"></ul>
    <div class="actions"><button type="button" class="secondary" id="plan-more" hidden>${esc(t('plans.more'))}</button></div>`;
  append(root, plans);
  // listened to once on the list: more cards come with each page
  root.querySelector('#plan-list').addEventListener('submit', (event) => {
    const form = event.target.closest('[data-notice-form]');
    if (!form) return;
    event.preventDefault();
    if (form.reportValidity()) save(form);
  });
  const more = root.querySelector('#plan-more');
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const next = await maintenancePlans({ limit: PAGE_SIZE, offset: plans.length });
      plans = [...plans, ...next.items];
      total = next.total;
      append(root, next.items);
    } catch {
      // offline: the button stays for another try
    } finally {
      more.disabled = false;
    }
  });
}
