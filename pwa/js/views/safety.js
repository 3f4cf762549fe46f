/**
 * Emergency readiness for the manager: the site's plan for each scenario (steps, who, minutes after the
 * alarm, numbers to call), the drill register (scenario, day, participants, a timing, evaluation, actions to
 * take) and the safety training register (topic, day, attendees, trainer). The scenarios and their names
 * come from the plans the server returns; the registers go through the outbox.
 *
 * Where `GET /emergency-plans` says `editable`, each plan opens an editor of the whole plan — steps (words in
 * Chinese and English, who, a limit in minutes; added, removed, moved up and down) and numbers to call —
 * saved at once with `PUT /emergency-plans/{scenario}` (online: a plan is not edited in the field). The
 * editor works on a draft: a save refused (checked here first, then by the server) keeps everything typed.
 */

import { createDrill, createTraining, emergencyPlans, listDrills, listTrainings, saveEmergencyPlan } from '../api.js';
import { esc, formatDateTime } from '../format.js';
import { currentLocale, label, refusal, t } from '../i18n.js';

let scenarios = [];
let siteId = null;
let canEdit = false;

function words(item) {
  return currentLocale() === 'en' ? item.labelEn : item.labelZh;
}

function scenarioName(code) {
  const plan = scenarios.find((p) => p.scenario === code);
  return plan ? words(plan) : code;
}

function today() {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
}

/** Names typed one per line or separated by commas (either kind) or 、. */
function names(text) {
  return text
    .split(/[\n,，、]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function planHtml(plan) {
  const steps = plan.steps
    .map(
      (s) => `<li>${esc(words(s))} <span class="muted small">${esc(label('role', s.role))}${
        s.dueMinutes ? ` · ${esc(t('safety.withinMinutes', { minutes: s.dueMinutes }))}` : ''
      }</span></li>`,
    )
    .join('');
  const phones = plan.phones
    .map((p) => `<span class="badge">${esc(words(p))} ${esc(p.number || t('safety.numberMissing'))}</span>`)
    .join(' ');
  const editor = canEdit ? `<form class="plan-form" data-plan-form="${esc(plan.scenario)}" novalidate>${editorHtml(plan.scenario)}</form>` : '';
  return `<details class="card" data-plan-scenario="${esc(plan.scenario)}"><summary><strong>${esc(words(plan))}</strong>
      <span class="muted small">${esc(plan.custom ? t('safety.customPlan') : t('safety.defaultPlan'))}</span></summary>
      <ol>${steps}</ol><p>${phones}</p>${editor}</details>`;
}

// ---- the plan editor ----

const STEP_ROLES = ['guard', 'technician', 'supervisor', 'manager'];
const MAX_STEPS = 30;
const MAX_MINUTES = 7 * 24 * 60;
const PHONE_PATTERN = /^[0-9+\- ]*$/;
// scenario → the plan as being edited: {steps: [{labelZh, labelEn, role, dueMinutes (text)}], phones}
const drafts = new Map();

function draftOf(scenario) {
  if (!drafts.has(scenario)) {
    const plan = scenarios.find((p) => p.scenario === scenario);
    drafts.set(scenario, {
      steps: plan.steps.map((st) => ({ labelZh: st.labelZh, labelEn: st.labelEn, role: st.role, dueMinutes: st.dueMinutes ? String(st.dueMinutes) : '' })),
      phones: plan.phones.map((ph) => ({ ...ph })),
    });
  }
  return drafts.get(scenario);
}

function stepEditHtml(scenario, step, i, count) {
  const id = `step-${scenario}-${i}`;
  return `<fieldset class="plan-step-edit" data-edit-step="${i}">
      <legend>${esc(t('planEdit.step', { n: i + 1 }))}</legend>
      <label for="${id}-zh">${esc(t('planEdit.wordsZh'))}</label>
      <input id="${id}-zh" data-field="labelZh" maxlength="200" lang="zh-CN" value="${esc(step.labelZh)}">
      <label for="${id}-en">${esc(t('planEdit.wordsEn'))}</label>
      <input id="${id}-en" data-field="labelEn" maxlength="200" lang="en" value="${esc(step.labelEn)}">
      <div class="plan-step-fields">
        <div><label for="${id}-role">${esc(t('planEdit.role'))}</label>
          <select id="${id}-role" data-field="role">${STEP_ROLES.map((r) => `<option value="${r}" ${r === step.role ? 'selected' : ''}>${esc(label('role', r))}</option>`).join('')}</select></div>
        <div><label for="${id}-minutes">${esc(t('planEdit.minutes'))}</label>
          <input id="${id}-minutes" data-field="dueMinutes" type="number" inputmode="numeric" min="1" max="${MAX_MINUTES}" step="1" placeholder="${esc(t('planEdit.noLimit'))}" value="${esc(step.dueMinutes)}"></div>
      </div>
      <p class="field-error" data-step-error hidden></p>
      <div class="plan-step-moves">
        <button type="button" class="secondary" data-step-up="${i}" ${i === 0 ? 'disabled' : ''}>${esc(t('planEdit.up'))}</button>
        <button type="button" class="secondary" data-step-down="${i}" ${i === count - 1 ? 'disabled' : ''}>${esc(t('planEdit.down'))}</button>
        <button type="button" class="secondary" data-step-remove="${i}" ${count === 1 ? 'disabled' : ''}>${esc(t('planEdit.remove'))}</button>
      </div>
    </fieldset>`;
}

function editorHtml(scenario) {
  const draft = draftOf(scenario);
  return `<h4>${esc(t('planEdit.steps'))}</h4>
    ${draft.steps.map((step, i) => stepEditHtml(scenario, step, i, draft.steps.length)).join('')}
    <div class="actions"><button type="button" class="secondary" data-step-add ${draft.steps.length >= MAX_STEPS ? 'disabled' : ''}>${esc(t('planEdit.add'))}</button></div>
    ${draft.phones.length ? `<h4>${esc(t('planEdit.phones'))}</h4>` : ''}
    ${draft.phones
      .map(
        (p, i) => `<label for="phone-${esc(scenario)}-${i}">${esc(words(p))}</label>
      <input id="phone-${esc(scenario)}-${i}" data-phone-index="${i}" inputmode="tel" maxlength="32" value="${esc(p.number)}">`,
      )
      .join('')}
    <p class="small" data-plan-note role="status" hidden></p>
    <div class="actions"><button type="submit" data-plan-save>${esc(t('planEdit.save'))}</button></div>`;
}

/** Copy what is typed in the form into its draft. */
function readForm(form) {
  const draft = draftOf(form.dataset.planForm);
  for (const box of form.querySelectorAll('[data-edit-step]')) {
    const step = draft.steps[Number(box.dataset.editStep)];
    for (const input of box.querySelectorAll('[data-field]')) step[input.dataset.field] = input.value.trim();
  }
  for (const input of form.querySelectorAll('[data-phone-index]')) draft.phones[Number(input.dataset.phoneIndex)].number = input.value.trim();
  return draft;
}

/** What is wrong with each step (index → message) and with the numbers; empty when the plan may be sent. */
function problems(draft) {
  const steps = new Map();
  draft.steps.forEach((step, i) => {
    const minutes = step.dueMinutes === '' ? null : Number(step.dueMinutes);
    if (!step.labelZh || !step.labelEn) steps.set(i, t('planEdit.needWords'));
    else if (minutes !== null && !(Number.isInteger(minutes) && minutes >= 1 && minutes <= MAX_MINUTES)) steps.set(i, t('planEdit.badMinutes', { max: MAX_MINUTES }));
  });
  const phones = draft.phones.map((p, i) => (PHONE_PATTERN.test(p.number) ? -1 : i)).filter((i) => i >= 0);
  return { steps, phones };
}

function showProblems(form, found) {
  for (const box of form.querySelectorAll('[data-edit-step]')) {
    const message = found.steps.get(Number(box.dataset.editStep));
    const slot = box.querySelector('[data-step-error]');
    slot.hidden = !message;
    slot.textContent = message || '';
    box.classList.toggle('invalid', Boolean(message));
  }
  for (const input of form.querySelectorAll('[data-phone-index]')) {
    input.setAttribute('aria-invalid', String(found.phones.includes(Number(input.dataset.phoneIndex))));
  }
}

function wireForm(form) {
  const scenario = form.dataset.planForm;
  const redraw = (change) => {
    const draft = readForm(form);
    change(draft.steps);
    form.innerHTML = editorHtml(scenario);
  };
  form.addEventListener('click', (event) => {
    const button = event.target.closest('button[type="button"]');
    if (!button || button.disabled) return;
    const i = Number(button.dataset.stepUp ?? button.dataset.stepDown ?? button.dataset.stepRemove);
    if ('stepAdd' in button.dataset) {
      redraw((steps) => steps.push({ labelZh: '', labelEn: '', role: 'guard', dueMinutes: '' }));
      const boxes = form.querySelectorAll('[data-edit-step]');
      boxes[boxes.length - 1].querySelector('[data-field="labelZh"]').focus();
    } else if ('stepRemove' in button.dataset) redraw((steps) => steps.splice(i, 1));
    else if ('stepUp' in button.dataset) redraw((steps) => steps.splice(i - 1, 2, steps[i], steps[i - 1]));
    else if ('stepDown' in button.dataset) redraw((steps) => steps.splice(i, 2, steps[i + 1], steps[i]));
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const draft = readForm(form);
    const note = form.querySelector('[data-plan-note]');
    const refuse = (message) => {
      note.hidden = false;
      note.classList.add('field-error');
      note.textContent = message;
    };
    const found = problems(draft);
    showProblems(form, found);
    if (found.steps.size || found.phones.length) {
      refuse(found.phones.length ? t('planEdit.badPhone') : t('planEdit.fixSteps'));
      return;
    }
    const button = form.querySelector('[data-plan-save]');
    button.disabled = true;
    try {
      const steps = draft.steps.map((st) => ({ labelZh: st.labelZh, labelEn: st.labelEn, role: st.role, dueMinutes: st.dueMinutes === '' ? null : Number(st.dueMinutes) }));
      const saved = await saveEmergencyPlan(scenario, { site: siteId, steps, phones: draft.phones });
      scenarios = scenarios.map((p) => (p.scenario === saved.scenario ? saved : p));
      drafts.delete(scenario);
      // redraw the plan as the server now has it, still open, and say so under its form
      const box = form.closest('details');
      box.outerHTML = planHtml(saved);
      const fresh = document.querySelector(`[data-plan-scenario="${CSS.escape(saved.scenario)}"]`);
      fresh.open = true;
      wireForm(fresh.querySelector('[data-plan-form]'));
      const done = fresh.querySelector('[data-plan-note]');
      done.hidden = false;
      done.textContent = t('safety.saved');
    } catch (error) {
      button.disabled = false;
      refuse(error.problem ? refusal(error.problem) : t('planEdit.offline'));
    }
  });
}

function drillHtml(d) {
  const timings = d.timings.map((x) => `${esc(x.label)} ${esc(t('safety.minutesValue', { minutes: x.minutes }))}`).join(' · ');
  return `<li data-drill="${esc(d.id)}"><strong>${esc(d.heldOn)} · ${esc(scenarioName(d.scenario))}</strong>
      <div class="small">${esc(t('safety.participantsCount', { count: d.participants.length }))}${timings ? ` · ${timings}` : ''}</div>
      ${d.evaluation ? `<div class="small">${esc(t('safety.evaluation'))}: ${esc(d.evaluation)}</div>` : ''}
      ${d.actions ? `<div class="small">${esc(t('safety.actions'))}: ${esc(d.actions)}</div>` : ''}
      <div class="muted small">${esc(t('safety.recorded', { name: d.recordedByName || '—', time: formatDateTime(d.recordedAt) }))}</div></li>`;
}

function trainingHtml(s) {
  return `<li data-training="${esc(s.id)}"><strong>${esc(s.heldOn)} · ${esc(s.topic)}</strong>
      <div class="small">${esc(t('safety.attendeesCount', { count: s.attendees.length }))}${s.trainer ? ` · ${esc(s.trainer)}` : ''}</div></li>`;
}

async function drawLists(root) {
  const [drills, trainings] = await Promise.all([listDrills({ limit: 100 }).catch(() => null), listTrainings({ limit: 100 }).catch(() => null)]);
  root.querySelector('#drill-list').innerHTML = drills
    ? drills.items.length
      ? drills.items.map(drillHtml).join('')
      : `<li class="muted">${esc(t('safety.noDrills'))}</li>`
    : `<li class="muted">${esc(t('safety.unavailable'))}</li>`;
  root.querySelector('#training-list').innerHTML = trainings
    ? trainings.items.length
      ? trainings.items.map(trainingHtml).join('')
      : `<li class="muted">${esc(t('safety.noTrainings'))}</li>`
    : `<li class="muted">${esc(t('safety.unavailable'))}</li>`;
}

function showOutcome(root, slot, outcome) {
  const note = root.querySelector(slot);
  note.hidden = false;
  note.classList.toggle('field-error', outcome.state === 'conflict');
  note.textContent = outcome.state === 'conflict' ? refusal(outcome.conflict) : outcome.state === 'queued' ? t('safety.queued') : t('safety.saved');
}

export async function render(root) {
  root.innerHTML = `<h2>${esc(t('safety.title'))}</h2><p class="muted">${esc(t('app.loading'))}</p>`;
  let plans;
  try {
    plans = await emergencyPlans();
  } catch {
    root.innerHTML = `<h2>${esc(t('safety.title'))}</h2><p class="card error">${esc(t('safety.unavailable'))}</p>`;
    return;
  }
  scenarios = plans.items;
  siteId = plans.siteId;
  drafts.clear();
  canEdit = plans.editable === true;
  const options = scenarios.map((p) => `<option value="${esc(p.scenario)}">${esc(words(p))}</option>`).join('');
  root.innerHTML = `<h2>${esc(t('safety.title'))}</h2>
    <h3>${esc(t('safety.plans'))}</h3>
    <div id="plan-list">${scenarios.map(planHtml).join('')}</div>
    <section class="card" id="drills">
      <h3>${esc(t('safety.drills'))}</h3>
      <form id="drill-form">
        <label for="drill-scenario">${esc(t('safety.scenario'))}</label><select id="drill-scenario">${options}</select>
        <label for="drill-day">${esc(t('safety.heldOn'))}</label><input type="date" id="drill-day" required max="${today()}" value="${today()}">
        <label for="drill-participants">${esc(t('safety.participants'))}</label><textarea id="drill-participants" rows="2"></textarea>
        <label for="drill-timing">${esc(t('safety.timing'))}</label><input id="drill-timing" maxlength="200">
        <label for="drill-minutes">${esc(t('safety.minutes'))}</label><input type="number" id="drill-minutes" min="0" step="0.5" inputmode="decimal">
        <label for="drill-evaluation">${esc(t('safety.evaluation'))}</label><textarea id="drill-evaluation" rows="2" maxlength="4000"></textarea>
        <label for="drill-actions">${esc(t('safety.actions'))}</label><textarea id="drill-actions" rows="2" maxlength="4000"></textarea>
        <p class="small" id="drill-note" role="status" hidden></p>
        <div class="actions"><button type="submit" id="drill-save">${esc(t('safety.saveDrill'))}</button></div>
      </form>
      <ul class="history" id="drill-list"></ul>
    </section>
    <section class="card" id="trainings">
      <h3>${esc(t('safety.trainings'))}</h3>
      <form id="training-form">
        <label for="training-topic">${esc(t('safety.topic'))}</label><input id="training-topic" maxlength="200" required>
        <label for="training-day">${esc(t('safety.heldOn'))}</label><input type="date" id="training-day" required max="${today()}" value="${today()}">
        <label for="training-attendees">${esc(t('safety.attendees'))}</label><textarea id="training-attendees" rows="2"></textarea>
        <label for="training-trainer">${esc(t('safety.trainer'))}</label><input id="training-trainer" maxlength="200">
        <p class="small" id="training-note" role="status" hidden></p>
        <div class="actions"><button type="submit" id="training-save">${esc(t('safety.saveTraining'))}</button></div>
      </form>
      <ul class="history" id="training-list"></ul>
    </section>`;
  for (const form of root.querySelectorAll('[data-plan-form]')) wireForm(form);
  root.querySelector('#drill-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const timing = root.querySelector('#drill-timing').value.trim();
    const minutes = root.querySelector('#drill-minutes').value;
    const outcome = await createDrill({
      site: plans.siteId,
      scenario: root.querySelector('#drill-scenario').value,
      heldOn: root.querySelector('#drill-day').value,
      participants: names(root.querySelector('#drill-participants').value),
      timings: timing && minutes !== '' ? [{ label: timing, minutes: Number(minutes) }] : [],
      evaluation: root.querySelector('#drill-evaluation').value.trim(),
      actions: root.querySelector('#drill-actions').value.trim(),
    });
    showOutcome(root, '#drill-note', outcome);
    if (outcome.state !== 'conflict') {
      event.target.reset();
      root.querySelector('#drill-day').value = today();
      drawLists(root);
    }
  });
  root.querySelector('#training-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const outcome = await createTraining({
      site: plans.siteId,
      topic: root.querySelector('#training-topic').value.trim(),
      heldOn: root.querySelector('#training-day').value,
      attendees: names(root.querySelector('#training-attendees').value),
      trainer: root.querySelector('#training-trainer').value.trim(),
    });
    showOutcome(root, '#training-note', outcome);
    if (outcome.state !== 'conflict') {
      event.target.reset();
      root.querySelector('#training-day').value = today();
      drawLists(root);
    }
  });
  await drawLists(root);
}
