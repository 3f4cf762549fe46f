/**
 * The guard's alarm console, live from the stream.
 *
 * A critical alarm nobody has acknowledged takes over the whole screen and rings and vibrates again and again
 * until it is acknowledged; other alarms ring once. Every deadline comes from the server: the countdown runs
 * to the alarm's `ackDueAt` (the site's own ladder) and an `escalation` event shows and sounds "supervisor
 * called" at the server's time. After acknowledging, the card follows the alarm's work order (who is going,
 * when they accepted, when they arrived); resolving while that job is open asks for a reason first. An alarm
 * that opened an emergency shows its plan as a timed checklist (views/emergency_plan.js), and a power cut the
 * vulnerable residents to visit. A fire (or a call-in) is reported by hand under the alarms
 * (views/emergency_report.js) and runs its plan the same way.
 */

import { ackAlarm, alarmChecklist, listAlarms, resolveAlarm, welfareVisits } from '../api.js';
import { ringOnce, ringUntilStopped, stopRingingExcept, unlockAudio } from '../alerts.js';
import { drawKeyed, press } from '../dom.js';
import { countdown, esc, formatDateTime } from '../format.js';
import { label, refusal, t } from '../i18n.js';
import { openLiveStream } from '../live.js';
import { onOutboxMessage } from '../outbox.js';
import { offerPush } from '../push.js';
import { mountOutageVisits } from './outage_visits.js';
import { mountEmergencyReport, refreshReported } from './emergency_report.js';
import { bindChecklist, checklistHtml, tickChecklist } from './emergency_plan.js';

const HISTORY_SIZE = 20;

let source = null;
let timer = null;
let alarms = new Map();
// alarm id → [{role, at}] escalations heard on the stream (the server's time of each step)
let escalations = new Map();
// alarm id → the refusal last shown next to its buttons
let refusals = new Map();
// alarms whose resolve form (reason for an open emergency job) is open
let resolving = new Set();
let stopListening = null;
let ringFor = new Set();
// alarm id → the emergency plan running for it (null: none), its welfare visits, and steps waiting to be sent
let plans = new Map();
let welfare = new Map();
let loadingPlans = new Set();
let queuedSteps = new Set();

function isOpen(alarm) {
  return alarm.open !== false && !alarm.resolvedAt;
}

function needsTakeover(alarm) {
  return isOpen(alarm) && alarm.severity === 'critical' && !alarm.ackedAt;
}

/** What the alarm carries, in words: where, which device, what it measured or reported. */
function facts(alarm) {
  const detail = alarm.detail || {};
  const rows = [];
  if (alarm.buildingName) rows.push([t('guard.building'), alarm.buildingName]);
  if (alarm.location) rows.push([t('guard.location'), alarm.location]);
  rows.push([t('guard.device'), alarm.deviceName || alarm.deviceId || '']);
  if (detail.floor !== undefined && detail.floor !== null) rows.push([t('guard.floor'), t('guard.floorValue', { floor: detail.floor })]);
  if (detail.passengers !== undefined && detail.passengers !== null) {
    rows.push([t('guard.passengers'), t('guard.passengersValue', { count: detail.passengers })]);
  }
  if (detail.metric && detail.value !== undefined) {
    rows.push([t('guard.reading'), t('guard.readingValue', { value: detail.value, threshold: detail.threshold ?? '—' })]);
  }
  return rows;
}

function factsHtml(alarm) {
  return facts(alarm).map(([name, value]) => `<dt>${esc(name)}</dt><dd>${esc(value)}</dd>`).join('');
}

/** The escalation line: the countdown to the next rung, or who has been called and when. */
function escalationHtml(alarm) {
  const heard = escalations.get(alarm.id) || [];
  const called = heard.map(
    (e) => `<p class="escalated" data-escalated="${esc(e.role)}">${esc(t('guard.called', { role: label('role', e.role), time: formatDateTime(e.at) }))}</p>`,
  );
  if (!heard.length && alarm.escalatedTo) {
    // escalated before this screen opened: who was told, without the time the stream would have given
    called.push(`<p class="escalated" data-escalated="${esc(alarm.escalatedTo)}">${esc(t('guard.calledEarlier', { role: label('role', alarm.escalatedTo) }))}</p>`);
  }
  const due =
    !alarm.ackedAt && alarm.ackDueAt
      ? `<p class="escalation-due">${esc(t('guard.escalatesTo', { role: label('role', alarm.escalatesTo) }))}
          <strong class="countdown" data-due="${esc(alarm.ackDueAt)}" data-ack-due="${esc(alarm.ackDueAt)}"></strong></p>`
      : '';
  return called.join('') + due;
}

/** After acknowledging: the work order the alarm opened, who is going and since when. */
function workOrderHtml(alarm) {
  const job = alarm.workOrder;
  if (!job) return `<p class="muted" data-job="none">${esc(t('guard.noJob'))}</p>`;
  const who = job.assigneeName ? job.assigneeName : t('guard.unassigned');
  const accepted = job.acceptedAt ? t('guard.acceptedAt', { time: formatDateTime(job.acceptedAt) }) : t('guard.notAccepted');
  const arrived = job.arrivedAt ? t('guard.arrivedAt', { time: formatDateTime(job.arrivedAt) }) : '';
  return `<div class="alarm-job" data-job="${esc(job.id)}" data-job-status="${esc(job.status)}">
      <h4>${esc(t('guard.job', { kind: label('kind', job.kind), number: job.number }))}</h4>
      <dl class="facts">
        <dt>${esc(t('guard.jobStatus'))}</dt><dd>${esc(label('status', job.status))}</dd>
        <dt>${esc(t('guard.going'))}</dt><dd data-job-assignee>${esc(who)}</dd>
        <dt>${esc(t('guard.accepted'))}</dt><dd data-job-accepted>${esc(accepted)}${arrived ? ` · ${esc(arrived)}` : ''}</dd>
      </dl></div>`;
}

function resolveHtml(alarm) {
  const openJob = alarm.workOrder && !alarm.workOrder.done;
  if (!resolving.has(alarm.id)) {
    return `<button type="button" class="secondary" data-resolve="${esc(alarm.id)}">${esc(t('guard.resolve'))}</button>`;
  }
  return `<form class="resolve-form" data-resolve-form="${esc(alarm.id)}">
      ${openJob ? `<p class="warning">${esc(t('guard.resolveOpenJob', { number: alarm.workOrder.number, status: label('status', alarm.workOrder.status) }))}</p>` : ''}
      <label>${esc(t('guard.resolveReason'))}<textarea name="note" rows="2" maxlength="1000" ${openJob ? 'aria-required="true"' : ''}></textarea></label>
      <div class="actions"><button type="submit" data-resolve-confirm="${esc(alarm.id)}">${esc(t('guard.resolveConfirm'))}</button>
        <button type="button" class="secondary" data-resolve-cancel="${esc(alarm.id)}">${esc(t('guard.cancel'))}</button></div>
    </form>`;
}

/** Fetch the plan running for an alarm (and, for a power cut, who to visit), then redraw. */
async function loadPlan(root, alarmId) {
  if (loadingPlans.has(alarmId)) return;
  loadingPlans.add(alarmId);
  try {
    const plan = await alarmChecklist(alarmId).catch((error) => (error.status === 404 ? null : plans.get(alarmId) || null));
    plans.set(alarmId, plan);
    if (plan && plan.welfareVisits) welfare.set(alarmId, await welfareVisits(alarmId).catch(() => welfare.get(alarmId) || null));
    for (const step of plan ? plan.steps : []) if (step.doneAt) queuedSteps.delete(step.id);
  } finally {
    loadingPlans.delete(alarmId);
  }
  draw(root);
}

function planHtml(alarm) {
  const plan = plans.get(alarm.id);
  return plan ? checklistHtml(plan, { welfare: welfare.get(alarm.id), queued: queuedSteps }) : '';
}

function alarmHtml(alarm) {
  const acked = Boolean(alarm.ackedAt);
  const problem = refusals.get(alarm.id);
  return `<section class="card alarm ${esc(alarm.severity)} ${acked ? 'acked' : ''}" data-alarm="${esc(alarm.id)}">
    <h3><span class="badge ${esc(alarm.severity)}">${esc(label('severity', alarm.severity))}</span>
      ${esc(label('alarm', alarm.code))}</h3>
    <dl class="facts">
      ${factsHtml(alarm)}
      <dt>${esc(t('guard.raisedAt'))}</dt><dd>${esc(formatDateTime(alarm.raisedAt))}</dd>
      <dt>${esc(t('guard.state'))}</dt><dd data-alarm-state>${esc(acked ? t('guard.acked') : t('guard.unacked'))}${alarm.active === false ? ` · ${esc(t('guard.cleared'))}` : ''}</dd>
    </dl>
    ${escalationHtml(alarm)}
    ${acked ? workOrderHtml(alarm) : ''}
    ${planHtml(alarm)}
    <div class="actions">
      ${acked ? '' : `<button type="button" data-ack="${esc(alarm.id)}">${esc(t('guard.ack'))}</button>`}
      ${resolveHtml(alarm)}
    </div>
    ${problem ? `<p class="error" role="alert" data-refusal>${esc(refusal(problem))}</p>` : ''}
  </section>`;
}

/** The full-screen takeover for the newest unacknowledged critical alarm; it stays until acknowledged. */
function takeoverHtml(critical) {
  const alarm = critical[0];
  const more = critical.length - 1;
  return `<div class="takeover" role="alertdialog" aria-modal="true" aria-labelledby="takeover-title" data-takeover="${esc(alarm.id)}">
      <p class="takeover-kind">${esc(label('severity', alarm.severity))} · ${esc(formatDateTime(alarm.raisedAt))}</p>
      <h2 id="takeover-title">${esc(label('alarm', alarm.code))}</h2>
      <dl class="facts">${factsHtml(alarm)}</dl>
      ${escalationHtml(alarm)}
      <button type="button" class="takeover-ack" data-ack="${esc(alarm.id)}">${esc(t('guard.ack'))}</button>
      ${more > 0 ? `<p class="takeover-more">${esc(t('guard.moreCritical', { count: more }))}</p>` : ''}
    </div>`;
}

function acknowledge(root, id) {
  unlockAudio();
  return ackAlarm(id).then((result) => {
    if (result.state === 'delivered' && result.body) alarms.set(id, { ...alarms.get(id), ...result.body });
    else if (result.state === 'conflict') refusals.set(id, result.conflict);
    else if (result.state === 'queued') alarms.set(id, { ...alarms.get(id), ackedAt: new Date().toISOString(), ackQueued: true });
    draw(root);
  });
}

async function resolve(root, id, note) {
  const result = await resolveAlarm(id, note);
  if (result.state === 'delivered') {
    resolving.delete(id);
    refusals.delete(id);
    alarms.set(id, { ...alarms.get(id), ...(result.body || {}), open: false, resolvedAt: (result.body && result.body.resolvedAt) || new Date().toISOString() });
  } else if (result.state === 'conflict') {
    refusals.set(id, result.conflict);
  } else {
    resolving.delete(id);
  }
  draw(root);
}

/** Listen once on the list and the takeover: their entries are redrawn in place (dom.js) as news arrives. */
function listen(root) {
  const list = root.querySelector('#alarm-list');
  const onAck = (event) => {
    const button = event.target.closest('[data-ack]');
    if (button && !button.disabled) press(button, () => acknowledge(root, button.dataset.ack));
  };
  root.querySelector('#alarm-takeover').addEventListener('click', onAck);
  list.addEventListener('click', (event) => {
    onAck(event);
    const resolveButton = event.target.closest('[data-resolve]');
    if (resolveButton && !resolveButton.disabled) {
      const alarm = alarms.get(resolveButton.dataset.resolve);
      // A job still open means a reason, always asked for; otherwise resolving needs no more words.
      if (alarm.workOrder && !alarm.workOrder.done) {
        resolving.add(alarm.id);
        draw(root);
        const box = root.querySelector(`[data-resolve-form="${CSS.escape(alarm.id)}"] textarea`);
        if (box) box.focus();
      } else {
        press(resolveButton, () => resolve(root, alarm.id, ''));
      }
    }
    const cancel = event.target.closest('[data-resolve-cancel]');
    if (cancel) {
      resolving.delete(cancel.dataset.resolveCancel);
      refusals.delete(cancel.dataset.resolveCancel);
      draw(root);
    }
  });
  list.addEventListener('submit', (event) => {
    const form = event.target.closest('[data-resolve-form]');
    if (!form) return;
    event.preventDefault();
    const note = form.elements.note.value.trim();
    const id = form.dataset.resolveForm;
    const alarm = alarms.get(id);
    if (alarm.workOrder && !alarm.workOrder.done && !note) {
      refusals.set(id, { code: 'alarm_resolve_reason_required', field: 'note' });
      draw(root);
      return;
    }
    const confirm = form.querySelector('[data-resolve-confirm]');
    if (!confirm.disabled) press(confirm, () => resolve(root, id, note));
  });
  bindChecklist(list, (stepId, result) => {
    const alarmId = [...plans.entries()].find(([, plan]) => plan && plan.steps.some((s) => s.id === stepId))?.[0];
    if (result.state === 'delivered' && result.body && alarmId) plans.set(alarmId, result.body);
    else if (result.state === 'queued') queuedSteps.add(stepId);
    else if (alarmId) loadPlan(root, alarmId);
    draw(root);
  });
}

function draw(root) {
  const list = [...alarms.values()].sort((a, b) => new Date(b.raisedAt) - new Date(a.raisedAt));
  const open = list.filter(isOpen);
  const history = list.filter((a) => !isOpen(a)).slice(0, HISTORY_SIZE);
  // keep typed reasons across a redraw (a live update must never wipe what the guard is writing)
  const drafts = new Map([...root.querySelectorAll('[data-resolve-form]')].map((f) => [f.dataset.resolveForm, f.elements.note.value]));
  // only the cards whose words changed are redrawn: a tap on another card's button is never lost
  drawKeyed(root.querySelector('#alarm-list'), open.length ? open.map((a) => [a.id, alarmHtml(a)]) : [['none', `<p class="card muted">${esc(t('guard.none'))}</p>`]]);
  for (const [id, value] of drafts) {
    const form = root.querySelector(`[data-resolve-form="${CSS.escape(id)}"]`);
    if (form) form.elements.note.value = value;
  }
  root.querySelector('#alarm-history').innerHTML = history.length
    ? history.map((a) => `<li>${esc(formatDateTime(a.raisedAt))} · ${esc(label('alarm', a.code))} · ${esc(a.deviceName || a.deviceId || '')}</li>`).join('')
    : `<li class="muted">—</li>`;
  for (const alarm of open) if (!plans.has(alarm.id)) loadPlan(root, alarm.id);
  const critical = open.filter(needsTakeover);
  const layer = root.querySelector('#alarm-takeover');
  drawKeyed(layer, critical.length ? [['takeover', takeoverHtml(critical)]] : []);
  layer.hidden = critical.length === 0;
  document.body.classList.toggle('taken-over', critical.length > 0);
  // every unacknowledged critical alarm keeps ringing; acknowledging (or its end) silences it
  const keep = new Set(critical.map((a) => `alarm:${a.id}`));
  for (const key of keep) ringUntilStopped(key, 'alarm');
  stopRingingExcept('alarm:', keep);
  tick(root);
}

function tick(root) {
  for (const el of root.querySelectorAll('[data-due]')) {
    const { overdue, text } = countdown(el.dataset.due);
    // past the server's deadline the step is the server's to take: say so until its event arrives
    el.textContent = overdue ? t('guard.escalating') : text;
    el.classList.toggle('overdue', overdue);
  }
  tickChecklist(root);
}

// The stream's state as the badge names it.
const STATE_LABEL = { connecting: 'guard.connecting', live: 'guard.live', reconnecting: 'guard.reconnecting', 'signed-out': 'guard.reconnecting' };

function parse(event) {
  try {
    return JSON.parse(event.data);
  } catch {
    return null;
  }
}

function connect(root) {
  if (source) source.close();
  const onAlarm = (event) => {
    const alarm = parse(event);
    if (!alarm || !alarm.id) return;
    const known = alarms.has(alarm.id);
    // a re-raise may open a new emergency job with a fresh checklist
    if (event.type === 'alarm.raised' && known) loadPlan(root, alarm.id);
    alarms.set(alarm.id, { ...(alarms.get(alarm.id) || {}), ...alarm });
    // a critical one rings on until acknowledged (draw); others ring once when they first appear
    if (!known && isOpen(alarm) && alarm.severity !== 'critical' && !ringFor.has(alarm.id)) {
      ringFor.add(alarm.id);
      ringOnce('alarm');
    }
    draw(root);
    // a water or power alarm raised or cleared changes whom to visit
    mountOutageVisits(root.querySelector('#outage-visits'));
  };
  const onEscalation = (event) => {
    const data = parse(event);
    // alarm escalations carry the alarm itself (the same `alarm.id` as alarm.* events); job escalations do not
    if (!data || data.kind !== 'alarm' || !data.alarm || !data.alarm.id) return;
    const alarm = data.alarm;
    alarms.set(alarm.id, { ...(alarms.get(alarm.id) || {}), ...alarm });
    const heard = escalations.get(alarm.id) || [];
    if (!heard.some((e) => e.level === data.level)) heard.push({ level: data.level, role: data.role, at: data.at });
    escalations.set(alarm.id, heard);
    ringOnce('escalation');
    draw(root);
  };
  const onPlan = (event) => {
    const data = parse(event);
    if (data && data.alarmId && alarms.has(data.alarmId)) loadPlan(root, data.alarmId);
    // a plan with no alarm was reported by hand: the list under the report button follows it
    else if (data && !data.alarmId) refreshReported(root.querySelector('#emergency-report'));
  };
  source = openLiveStream({
    handlers: { 'alarm.raised': onAlarm, 'alarm.updated': onAlarm, escalation: onEscalation, 'emergency.updated': onPlan },
    onState: (state) => {
      const badge = root.querySelector('#stream-state');
      if (badge) badge.textContent = t(STATE_LABEL[state]);
    },
  });
}

/** Render the console and subscribe to the stream. */
export async function render(root) {
  root.innerHTML = `<div class="row"><h2 class="grow">${esc(t('guard.title'))}</h2>
      <span class="badge" id="stream-state">${esc(t('guard.connecting'))}</span></div>
    <div class="row"><button type="button" class="secondary" id="enable-alerts">${esc(t('guard.enableAlerts'))}</button>
      <span class="muted small" id="push-state"></span></div>
    <p class="muted small" id="alarm-offline" hidden>${esc(t('guard.offlineCopy'))}</p>
    <div id="alarm-list"></div>
    <div id="emergency-report"></div>
    <div id="outage-visits" hidden></div>
    <section class="card"><h3>${esc(t('guard.history'))}</h3><ul class="history" id="alarm-history"></ul></section>
    <div id="alarm-takeover" hidden></div>`;
  listen(root);
  root.querySelector('#enable-alerts').addEventListener('click', async () => {
    unlockAudio(); // the tap lets later alarms sound
    const outcome = await offerPush();
    root.querySelector('#push-state').textContent = t(`push.${outcome}`);
  });
  alarms = new Map();
  escalations = new Map();
  refusals = new Map();
  resolving = new Set();
  ringFor = new Set();
  plans = new Map();
  welfare = new Map();
  loadingPlans = new Set();
  queuedSteps = new Set();
  try {
    for (const alarm of await listAlarms({})) alarms.set(alarm.id, alarm);
    // offline, the service worker answered with the list as last read online: say so
    root.querySelector('#alarm-offline').hidden = navigator.onLine;
  } catch {
    root.querySelector('#alarm-list').innerHTML = `<p class="card error">${esc(t('guard.unavailable'))}</p>`;
  }
  draw(root);
  mountOutageVisits(root.querySelector('#outage-visits'));
  mountEmergencyReport(root.querySelector('#emergency-report'));
  connect(root);
  // An ack or resolve sent later (after a retry or by the service worker) updates the card when it lands.
  if (stopListening) stopListening();
  stopListening = onOutboxMessage((message) => {
    if (message.type === 'delivered' && message.url && message.url.includes('/emergency-steps/') && message.body) {
      const plan = message.body;
      const alarmId = plan.alarmId;
      if (alarmId && alarms.has(alarmId)) {
        plans.set(alarmId, plan);
        for (const step of plan.steps) if (step.doneAt) queuedSteps.delete(step.id);
        draw(root);
      }
      return;
    }
    if (message.type !== 'delivered' || !message.url || !message.url.includes('/alarms/') || !message.body) return;
    const alarm = message.body;
    if (alarm.id && alarms.has(alarm.id)) {
      alarms.set(alarm.id, { ...alarms.get(alarm.id), ...alarm, ackQueued: false });
      draw(root);
    }
  });
  clearInterval(timer);
  timer = setInterval(() => tick(root), 1000);
}

/** Close the stream and timers when leaving; the ringing stops with the console. */
export function unmount() {
  if (stopListening) stopListening();
  stopListening = null;
  if (source) source.close();
  source = null;
  clearInterval(timer);
  stopRingingExcept('alarm:', new Set());
  document.body.classList.remove('taken-over');
}
