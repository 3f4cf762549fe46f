/**
 * The guard's alarm console: active alarms live from the stream, with a beep, vibration and a system
 * notification for critical ones; acknowledge and resolve; the escalation countdown; recent history.
 */

import { ackAlarm, listAlarms, resolveAlarm } from '../api.js';
import { countdown, esc, formatDateTime } from '../format.js';
import { t, tOr } from '../i18n.js';
import { openLiveStream } from '../live.js';
import { onOutboxMessage } from '../outbox.js';
import { offerPush } from '../push.js';

// DESIGN.md: an alarm not acknowledged within 60 s escalates to the supervisor.
const ACK_ESCALATION_SECONDS = 60;
const HISTORY_SIZE = 20;

let source = null;
let timer = null;
let audio = null;
let alarms = new Map();
let stopListening = null;

function beep() {
  try {
    audio = audio || new AudioContext();
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.type = 'square';
    oscillator.frequency.value = 880;
    gain.gain.value = 0.2;
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.6);
  } catch {
    // No audio device (or not yet allowed by a user gesture): vibration and the notification still fire.
  }
}

async function alert(alarm) {
  beep();
  if (navigator.vibrate) navigator.vibrate([300, 150, 300, 150, 600]);
  if (alarm.severity !== 'critical' || !('Notification' in window) || Notification.permission !== 'granted') return;
  const title = `${tOr(`alarm.${alarm.code}`, alarm.code)} · ${alarm.deviceName || alarm.deviceId}`;
  const options = { body: alarm.location || '', tag: `alarm-${alarm.id}`, requireInteraction: true, icon: '/icons/icon-192.png' };
  try {
    const registration = await navigator.serviceWorker.ready;
    await registration.showNotification(title, options);
  } catch {
    new Notification(title, options);
  }
}

function isOpen(alarm) {
  return alarm.open !== false && !alarm.resolvedAt;
}

function alarmHtml(alarm) {
  const acked = Boolean(alarm.ackedAt);
  const escalateAt = new Date(new Date(alarm.raisedAt).getTime() + ACK_ESCALATION_SECONDS * 1000).toISOString();
  return `<section class="card alarm ${esc(alarm.severity)} ${acked ? 'acked' : ''}" data-alarm="${esc(alarm.id)}">
    <h3><span class="badge ${esc(alarm.severity)}">${esc(tOr(`severity.${alarm.severity}`, alarm.severity))}</span>
      ${esc(tOr(`alarm.${alarm.code}`, alarm.code))}</h3>
    <dl class="facts">
      <dt>${esc(t('guard.device'))}</dt><dd>${esc(alarm.deviceName || alarm.deviceId || '')}</dd>
      <dt>${esc(t('guard.raisedAt'))}</dt><dd>${esc(formatDateTime(alarm.raisedAt))}</dd>
      <dt>${esc(t('guard.state'))}</dt><dd data-alarm-state>${esc(acked ? t('guard.acked') : t('guard.unacked'))}${alarm.active === false ? ` · ${esc(t('guard.cleared'))}` : ''}</dd>
      ${acked ? '' : `<dt>${esc(t('guard.escalation'))}</dt><dd class="countdown" data-due="${esc(escalateAt)}"></dd>`}
    </dl>
    <div class="actions">
      ${acked ? '' : `<button type="button" data-ack="${esc(alarm.id)}">${esc(t('guard.ack'))}</button>`}
      <button type="button" class="secondary" data-resolve="${esc(alarm.id)}">${esc(t('guard.resolve'))}</button>
    </div></section>`;
}

function draw(root) {
  const list = [...alarms.values()].sort((a, b) => new Date(b.raisedAt) - new Date(a.raisedAt));
  const open = list.filter(isOpen);
  const history = list.filter((a) => !isOpen(a)).slice(0, HISTORY_SIZE);
  root.querySelector('#alarm-list').innerHTML = open.length ? open.map(alarmHtml).join('') : `<p class="card muted">${esc(t('guard.none'))}</p>`;
  root.querySelector('#alarm-history').innerHTML = history.length
    ? history.map((a) => `<li>${esc(formatDateTime(a.raisedAt))} · ${esc(tOr(`alarm.${a.code}`, a.code))} · ${esc(a.deviceName || a.deviceId || '')}</li>`).join('')
    : `<li class="muted">—</li>`;
  for (const button of root.querySelectorAll('[data-ack]')) {
    button.addEventListener('click', async () => {
      button.disabled = true;
      const result = await ackAlarm(button.dataset.ack);
      if (result.state === 'delivered' && result.body) alarms.set(result.body.id || button.dataset.ack, { ...alarms.get(button.dataset.ack), ...result.body });
      else if (result.state === 'delivered') alarms.get(button.dataset.ack).ackedAt = new Date().toISOString();
      draw(root);
    });
  }
  for (const button of root.querySelectorAll('[data-resolve]')) {
    button.addEventListener('click', async () => {
      button.disabled = true;
      const result = await resolveAlarm(button.dataset.resolve);
      if (result.state === 'delivered') {
        alarms.set(button.dataset.resolve, { ...alarms.get(button.dataset.resolve), ...(result.body || {}), open: false, resolvedAt: new Date().toISOString() });
      }
      draw(root);
    });
  }
  tick(root);
}

function tick(root) {
  for (const el of root.querySelectorAll('[data-due]')) {
    const { overdue, text } = countdown(el.dataset.due);
    el.textContent = overdue ? t('guard.escalated') : text;
    el.classList.toggle('overdue', overdue);
  }
}

// The stream's state as the badge names it.
const STATE_LABEL = { connecting: 'guard.connecting', live: 'guard.live', reconnecting: 'guard.reconnecting', 'signed-out': 'guard.reconnecting' };

function connect(root) {
  if (source) source.close();
  const onAlarm = (event) => {
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    const alarm = data.alarm || data;
    if (!alarm || !alarm.id) return;
    const known = alarms.has(alarm.id);
    alarms.set(alarm.id, { ...(alarms.get(alarm.id) || {}), ...alarm });
    if (!known && event.type === 'alarm.raised') alert(alarm);
    draw(root);
  };
  source = openLiveStream({
    handlers: { 'alarm.raised': onAlarm, 'alarm.updated': onAlarm, escalation: onAlarm },
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
    <div id="alarm-list"></div>
    <section class="card"><h3>${esc(t('guard.history'))}</h3><ul class="history" id="alarm-history"></ul></section>`;
  root.querySelector('#enable-alerts').addEventListener('click', async () => {
    beep(); // the click unlocks audio for later alarms
    const outcome = await offerPush();
    root.querySelector('#push-state').textContent = t(`push.${outcome}`);
  });
  alarms = new Map();
  try {
    for (const alarm of await listAlarms({})) alarms.set(alarm.id, alarm);
  } catch {
    root.querySelector('#alarm-list').innerHTML = `<p class="card error">${esc(t('guard.unavailable'))}</p>`;
  }
  draw(root);
  connect(root);
  // An ack or resolve sent later (after a retry or by the service worker) updates the card when it lands.
  if (stopListening) stopListening();
  stopListening = onOutboxMessage((message) => {
    if (message.type !== 'delivered' || !message.url || !message.url.includes('/alarms/') || !message.body) return;
    const alarm = message.body;
    if (alarm.id && alarms.has(alarm.id)) {
      alarms.set(alarm.id, { ...alarms.get(alarm.id), ...alarm });
      draw(root);
    }
  });
  clearInterval(timer);
  timer = setInterval(() => tick(root), 1000);
}

/** Close the stream and timers when leaving. */
export function unmount() {
  if (stopListening) stopListening();
  stopListening = null;
  if (source) source.close();
  source = null;
  clearInterval(timer);
}
