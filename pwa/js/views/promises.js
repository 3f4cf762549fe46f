/**
 * Promises made to the owner on a case (承诺: "下午 3 点前回复您"): listed with their state as the server
 * says it (open, kept on time or late, broken), a form to record one — the due time entered on the site's
 * clock — and a button to mark an open or broken one kept. Shared by the job and complaint screens.
 */

import { keepPromise, listPromises, makePromise } from '../api.js';
import { esc, formatDateTime, fromSiteInput, siteTimeZone } from '../format.js';
import { refusal, t } from '../i18n.js';

function stateText(p) {
  if (p.state === 'kept') return p.keptOnTime ? t('promise.keptOnTime') : t('promise.keptLate');
  return t(`promise.state.${p.state}`);
}

function item(p) {
  const tone = p.state === 'broken' || (p.state === 'kept' && !p.keptOnTime) ? 'overdue' : '';
  return `<li data-promise="${esc(p.id)}"><strong>${esc(p.text)}</strong>
      <div class="muted small">${esc(t('promise.due', { time: formatDateTime(p.dueAt) }))} · ${esc(t('promise.by', { name: p.madeByName || '' }))}</div>
      <span class="badge ${tone}" data-promise-state="${esc(p.state)}">${esc(stateText(p))}</span>
      ${p.keptAt ? `<span class="muted small">${esc(formatDateTime(p.keptAt))} ${esc(p.keptByName || '')} ${esc(p.keptNote || '')}</span>` : ''}
      ${p.state !== 'kept' ? `<div class="actions"><button type="button" class="secondary" data-keep="${esc(p.id)}">${esc(t('promise.keep'))}</button></div>` : ''}
    </li>`;
}

/** The promises card of a case (`job` as the server sent it, with its `promises`). */
export function promisesHtml(job) {
  const list = job.promises || [];
  // the server says whether there is someone to promise to (a reported case) and the caller may
  if (!job.mayPromise && !list.length) return '';
  return `<section class="card" id="promises-card"><h3>${esc(t('promise.title'))}</h3>
    <ul class="history" id="promise-list">${list.map(item).join('') || `<li class="muted">${esc(t('promise.none'))}</li>`}</ul>
    <form id="promise-form" class="promise-form" ${job.mayPromise ? '' : 'hidden'}>
      <label for="promise-text">${esc(t('promise.text'))}</label>
      <input id="promise-text" maxlength="500" placeholder="${esc(t('promise.textExample'))}">
      <label for="promise-due">${esc(t('promise.dueAt'))}</label>
      <input id="promise-due" type="datetime-local">
      <p class="muted small">${esc(t('appointment.siteZone', { zone: siteTimeZone() }))}</p>
      <p class="muted small">${esc(t('promise.reminderRule'))}</p>
      <p class="form-error" id="promise-error" role="alert" hidden></p>
      <div class="actions"><button type="submit" id="promise-add">${esc(t('promise.add'))}</button></div>
    </form></section>`;
}

/** Wire the card rendered by promisesHtml under `root`; it redraws itself from the server after a change. */
export function wirePromises(root, job) {
  const card = root.querySelector('#promises-card');
  if (!card) return;
  const error = card.querySelector('#promise-error');
  const say = (message) => {
    error.textContent = message || '';
    error.hidden = !message;
  };
  const redraw = async () => {
    const promises = await listPromises(job.id).catch(() => null);
    if (!promises) return;
    card.outerHTML = promisesHtml({ ...job, promises });
    wirePromises(root, { ...job, promises });
  };
  card.querySelector('#promise-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = card.querySelector('#promise-text').value.trim();
    const due = fromSiteInput(card.querySelector('#promise-due').value);
    if (!text || !due) return say(t('promise.sayWhatAndWhen'));
    say('');
    card.querySelector('#promise-add').disabled = true;
    const result = await makePromise(job.id, { text, dueAt: due });
    if (result.state === 'conflict') {
      card.querySelector('#promise-add').disabled = false;
      return say(refusal(result.conflict));
    }
    await redraw();
  });
  for (const button of card.querySelectorAll('[data-keep]')) {
    button.addEventListener('click', async () => {
      button.disabled = true;
      const result = await keepPromise(button.dataset.keep, '', job.id);
      if (result.state === 'conflict') say(refusal(result.conflict));
      await redraw();
    });
  }
}
