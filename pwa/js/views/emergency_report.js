/**
 * On the guard's console: report an emergency no alarm can (a fire seen, an entrapment or a flood called in).
 * The guard picks the scenario (火警 first) and says where; the server opens an emergency job that runs the
 * scenario's plan as a timed checklist, shown here under the form exactly as an alarm's plan is (ticks go
 * through the outbox). The report goes through the outbox too, so it is sent once even with no signal.
 */

import { reportEmergency, reportedEmergencies } from '../api.js';
import { drawKeyed } from '../dom.js';
import { esc } from '../format.js';
import { label, refusal, t } from '../i18n.js';
import { bindChecklist, checklistHtml, tickChecklist } from './emergency_plan.js';

// Fire first: it is the one scenario that only a person can report.
const SCENARIOS = ['fire', 'entrapment', 'flooding', 'power_cut'];

let opened = false;
let problem = null;
let running = [];
let queuedSteps = new Set();
let waiting = false;
// On the desk's intake screen only the form shows (the desk does not tick steps): a report delivered there
// is confirmed with a link to its job.
let withList = true;
let reported = null;

function formHtml() {
  if (!opened) {
    return `<button type="button" class="danger" data-report-open>${esc(t('report.open'))}</button>`;
  }
  return `<form data-report-form>
      <fieldset class="choice"><legend>${esc(t('report.scenario'))}</legend>
        ${SCENARIOS.map(
          (s, i) => `<label class="checklist"><input type="radio" name="scenario" value="${s}" ${i === 0 ? 'checked' : ''}>
            ${esc(label('scenario', s))}</label>`,
        ).join('')}
      </fieldset>
      <label>${esc(t('report.location'))}<input name="location" maxlength="200" required></label>
      <label>${esc(t('report.description'))}<textarea name="description" rows="2" maxlength="4000"></textarea></label>
      <div class="actions"><button type="submit" class="danger" data-report-send>${esc(t('report.send'))}</button>
        <button type="button" class="secondary" data-report-cancel>${esc(t('guard.cancel'))}</button></div>
      ${problem ? `<p class="error" role="alert">${esc(refusal(problem))}</p>` : ''}
    </form>`;
}

function runningHtml(item) {
  return `<section class="card alarm critical" data-reported="${esc(item.workOrderId)}">
      <h3>${esc(t('report.title', { scenario: label('scenario', item.checklist.scenario), number: item.number }))}</h3>
      <p class="muted small">${esc(item.location)} · ${esc(t('report.by', { name: item.reportedByName || '—' }))}</p>
      ${checklistHtml(item.checklist, { queued: queuedSteps })}
    </section>`;
}

function drawList(box) {
  const list = box.querySelector('[data-reported-list]');
  drawKeyed(list, running.map((item) => [item.workOrderId, runningHtml(item)]));
  tickChecklist(list);
}

// The form is drawn apart from the list: a live update redraws the list and never wipes what is typed.
function drawForm(box) {
  const panel = box.querySelector('[data-report-panel]');
  const done = reported
    ? `<p data-report-done><a class="button secondary" href="#/job/${esc(reported.workOrderId)}">${esc(t('report.title', { scenario: label('scenario', reported.checklist.scenario), number: reported.number }))}</a></p>`
    : '';
  panel.innerHTML = `${formHtml()}${waiting ? `<p class="muted" data-report-queued>${esc(t('report.queued'))}</p>` : ''}${done}`;
  const open = panel.querySelector('[data-report-open]');
  if (open) {
    open.addEventListener('click', () => {
      opened = true;
      problem = null;
      drawForm(box);
      panel.querySelector('input[name=location]').focus();
    });
  }
  const cancel = panel.querySelector('[data-report-cancel]');
  if (cancel) {
    cancel.addEventListener('click', () => {
      opened = false;
      problem = null;
      drawForm(box);
    });
  }
  const form = panel.querySelector('[data-report-form]');
  if (!form) return;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    form.querySelector('[data-report-send]').disabled = true;
    const result = await reportEmergency({
      scenario: form.elements.scenario.value,
      location: form.elements.location.value.trim(),
      description: form.elements.description.value.trim(),
    });
    if (result.state === 'conflict') {
      problem = result.conflict;
    } else {
      opened = false;
      problem = null;
      waiting = result.state === 'queued';
      if (result.state === 'delivered' && result.body && withList) {
        running = [result.body, ...running.filter((r) => r.workOrderId !== result.body.workOrderId)];
        drawList(box);
      } else if (result.state === 'delivered' && result.body) {
        reported = result.body;
      }
    }
    drawForm(box);
  });
}

/** Read the open reported emergencies again (on the stream's `emergency.updated`) and redraw. */
export async function refreshReported(box) {
  if (!box || !withList) return;
  try {
    const page = await reportedEmergencies({});
    running = page.items;
    for (const item of running) for (const step of item.checklist.steps) if (step.doneAt) queuedSteps.delete(step.id);
  } catch {
    // offline: keep what is shown
    return;
  }
  drawList(box);
  // a report sent from the outbox has landed: "saved" gives way to its card (unless a new form is open)
  if (waiting && running.length && !opened) {
    waiting = false;
    drawForm(box);
  }
}

/** Draw the report button and (unless `list` is false) the open reported emergencies into `box`. */
export async function mountEmergencyReport(box, { list = true } = {}) {
  if (!box) return;
  withList = list;
  reported = null;
  opened = false;
  problem = null;
  running = [];
  queuedSteps = new Set();
  waiting = false;
  box.innerHTML = '<section class="card report-emergency" data-report-panel></section><div data-reported-list></div>';
  bindChecklist(box.querySelector('[data-reported-list]'), (stepId, result) => {
    if (result.state === 'delivered' && result.body) {
      running = running.map((r) => (r.workOrderId === result.body.workOrderId ? { ...r, checklist: result.body } : r));
    } else if (result.state === 'queued') {
      queuedSteps.add(stepId);
    }
    drawList(box);
  });
  drawForm(box);
  await refreshReported(box);
}
