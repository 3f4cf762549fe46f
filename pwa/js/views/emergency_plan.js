/**
 * The emergency plan running for an alarm, as a timed checklist: shared by the guard's console and the
 * emergency job screen.
 *
 * Everything comes from the server: the steps (in the site's own words, both languages), who does each, the
 * due time of each step counted from the alarm, who ticked it off and when, and whether the plan asks for
 * welfare visits (a power cut: the vulnerable residents of the building hit, as the server lets this user
 * see them). A tick goes through the outbox, so it is sent once even with no signal.
 */

import { emergencyStepDone } from '../api.js';
import { press } from '../dom.js';
import { countdown, esc, formatDateTime } from '../format.js';
import { currentLocale, label, t } from '../i18n.js';

function words(item) {
  return currentLocale() === 'en' ? item.labelEn : item.labelZh;
}

function stepHtml(step, queued) {
  const done = Boolean(step.doneAt);
  const waiting = !done && queued.has(step.id);
  const state = done
    ? `<span class="step-done" data-step-record>${esc(t('emergency.doneBy', { name: step.doneByName || '—', time: formatDateTime(step.doneAt) }))}</span>`
    : waiting
      ? `<span class="badge pending">${esc(t('emergency.queued'))}</span>`
      : step.dueAt
        ? `<span class="countdown step-due ${step.overdue ? 'overdue' : ''}" data-step-due="${esc(step.dueAt)}"></span>`
        : `<span class="muted small">${esc(t('emergency.noLimit'))}</span>`;
  return `<li class="plan-step ${done ? 'done' : ''} ${step.overdue ? 'overdue' : ''}" data-step="${esc(step.id)}" data-step-done="${done}">
      <div class="plan-step-text"><strong>${esc(step.position)}. ${esc(words(step))}</strong>
        <span class="muted small">${esc(label('role', step.role))}</span></div>
      <div class="plan-step-state">${state}
        ${done || waiting ? '' : `<button type="button" class="step-tick" data-step-tick="${esc(step.id)}">${esc(t('emergency.markDone'))}</button>`}</div>
    </li>`;
}

function phonesHtml(phones) {
  const usable = (phones || []).filter((p) => p.number);
  if (!usable.length) return '';
  return `<div class="plan-phones">${usable
    .map((p) => `<a class="button secondary" href="tel:${esc(p.number.replaceAll(' ', ''))}" data-phone="${esc(p.number)}">${esc(words(p))} ${esc(p.number)}</a>`)
    .join('')}</div>`;
}

/** The vulnerable residents to visit: building, unit, name and a call button where the server gives a phone. */
export function welfareHtml(page) {
  if (!page) return '';
  const items = page.items || [];
  const rows = items.length
    ? items
        .map(
          (r) => `<li data-welfare-resident="${esc(r.id)}"><strong>${esc(t('emergency.home', { building: r.buildingCode, number: r.number }))}</strong>
            ${esc(r.name || '')}${r.phone ? ` <a class="button secondary" href="tel:${esc(r.phone)}">${esc(r.phone)}</a>` : r.phoneMasked ? ` ${esc(r.phoneMasked)}` : ''}</li>`,
        )
        .join('')
    : `<li class="muted">${esc(t('emergency.welfareNone'))}</li>`;
  return `<section class="plan-welfare" data-welfare><h5>${esc(t('emergency.welfareTitle', { count: page.total ?? items.length }))}</h5>
      <ul class="history">${rows}</ul></section>`;
}

/** The checklist of a plan (`plan` as GET …/checklist returns it); `queued` holds step ids waiting to be sent. */
export function checklistHtml(plan, { welfare = null, queued = new Set() } = {}) {
  if (!plan) return '';
  const open = plan.steps.filter((s) => !s.doneAt).length;
  return `<section class="emergency-plan" data-plan="${esc(plan.workOrderId)}" data-scenario="${esc(plan.scenario)}">
      <h4>${esc(t('emergency.planTitle', { scenario: words(plan) }))}
        <span class="muted small">${esc(t('emergency.stepsLeft', { open, total: plan.steps.length }))}</span></h4>
      ${phonesHtml(plan.phones)}
      <ol class="plan-steps">${plan.steps.map((s) => stepHtml(s, queued)).join('')}</ol>
      ${plan.welfareVisits ? welfareHtml(welfare) : ''}
    </section>`;
}

/**
 * Listen once on `container` for its tick buttons, however often the steps inside are redrawn: each tick
 * sends through the outbox and calls `onResult(stepId, result)` (`result.state` delivered with the whole
 * checklist as `body`, queued, or conflict).
 */
export function bindChecklist(container, onResult) {
  container.addEventListener('click', (event) => {
    const button = event.target.closest('[data-step-tick]');
    if (!button || button.disabled) return;
    const stepId = button.dataset.stepTick;
    press(button, async () => onResult(stepId, await emergencyStepDone(stepId)));
  });
}

/** Count each open step down to its server due time; past it the step is marked overdue. */
export function tickChecklist(root) {
  for (const el of root.querySelectorAll('[data-step-due]')) {
    const { overdue, text } = countdown(el.dataset.stepDue);
    el.textContent = text;
    el.classList.toggle('overdue', overdue);
    const row = el.closest('.plan-step');
    if (row) row.classList.toggle('overdue', overdue);
  }
}
