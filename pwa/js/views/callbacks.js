/**
 * The callback queue (回访): who to call, by when, what was done and by whom, and the outcome of each call.
 * Nothing is preselected: the agent records what the owner said, never a default "reached, very satisfied".
 * A reached owner is also asked the seeds' drivers (response speed, attitude, quality) and 0-10 whether they
 * would recommend us (NPS); each may be left unasked.
 */

import { listCallbacks, unitLabel, workOrderAction } from '../api.js';
import { countdown, esc, formatDateTime } from '../format.js';
import { label, refusal, t } from '../i18n.js';
import { renderCampaigns } from './campaigns.js';

let timer = null;
const SCORES = [5, 4, 3, 2, 1];
// The drivers the seeds measured (1-5 each, optional) and willingness to recommend (0-10, NPS).
const DRIVERS = ['speed', 'attitude', 'quality'];
const RECOMMEND = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0];

function tick(root) {
  for (const el of root.querySelectorAll('[data-due]')) {
    const { overdue, text } = countdown(el.dataset.due);
    el.textContent = text;
    el.classList.toggle('overdue', overdue);
  }
}

/** What was done, in the words the technician or the complaint's handler recorded. */
function whatWasDone(item) {
  const r = item.resolution || {};
  const parts = [r.workDone, r.cause && t('callbacks.cause', { cause: r.cause }), r.solution, r.findings && !r.solution ? r.findings : null];
  return parts.filter(Boolean).join(' · ');
}

/** The numbers to call: the one the caller left, and the owner's on file when it is another. */
function phones(item) {
  const list = [];
  if (item.reporterPhone) list.push({ phone: item.reporterPhone, who: item.reporterName || t('callbacks.caller') });
  if (item.ownerPhone && item.ownerPhone !== item.reporterPhone) list.push({ phone: item.ownerPhone, who: t('callbacks.owner', { name: item.ownerName || '' }) });
  return list;
}

function card(item) {
  const id = item.workOrderId;
  const done = whatWasDone(item);
  return `<section class="card callback" data-callback="${esc(id)}">
      <div class="row"><span class="badge">${esc(label('kind', item.kind))}</span>
        <span class="muted small">${esc(t('callbacks.due', { time: formatDateTime(item.dueAt) }))}</span>
        <span class="countdown" data-due="${esc(item.dueAt)}"></span>
        ${item.attempts ? `<span class="badge">${esc(t('callbacks.attempts', { count: item.attempts }))}</span>` : ''}</div>
      <a class="job-title" href="#/job/${esc(id)}">${esc(item.title || '')}</a>
      <div class="muted small">${esc(item.number || '')} · ${esc(unitLabel(item))}</div>
      <dl class="facts">
        <dt>${esc(t('callbacks.doneBy'))}</dt><dd data-done-by>${esc(item.assigneeName || t('callbacks.nobody'))}</dd>
        <dt>${esc(t('callbacks.whatWasDone'))}</dt><dd data-done>${esc(done || t('callbacks.notRecorded'))}</dd>
      </dl>
      <div class="row phones">${phones(item)
        .map((p) => `<a class="button secondary" href="tel:${esc(p.phone)}">${esc(t('job.call'))} ${esc(p.who)} ${esc(p.phone)}</a>`)
        .join('') || `<p class="muted" data-no-phone>${esc(t('callbacks.noPhone'))}</p>`}</div>
      ${callbackFieldsHtml(id)}
      <p class="form-error" data-callback-error role="alert" hidden></p>
      <div class="actions"><button type="button" data-record>${esc(t('callbacks.record'))}</button></div>
      <p class="muted small hidden" data-result></p>
    </section>`;
}

/** The questions of a follow-up call (reached? satisfaction, comment) for the work order `id`. */
export function callbackFieldsHtml(id) {
  return `<fieldset class="choice" data-reached-group>
        <legend>${esc(t('callbacks.reachedQuestion'))}</legend>
        <label class="checklist"><input type="radio" name="reached-${esc(id)}" value="yes" data-reached> ${esc(t('callbacks.reachedYes'))}</label>
        <label class="checklist"><input type="radio" name="reached-${esc(id)}" value="no" data-not-reached> ${esc(t('callbacks.reachedNo'))}</label>
      </fieldset>
      <fieldset class="choice scores" data-satisfaction-group hidden>
        <legend>${esc(t('callbacks.satisfaction'))}</legend>
        ${SCORES.map((n) => `<label class="checklist"><input type="radio" name="score-${esc(id)}" value="${n}" data-score> ${n} · ${esc(t(`satisfaction.${n}`))}</label>`).join('')}
      </fieldset>
      <div data-drivers hidden>
        ${DRIVERS.map((d) => `<label for="${d}-${esc(id)}">${esc(t(`callbacks.driver.${d}`))}</label>
        <select id="${d}-${esc(id)}" data-driver="${d}"><option value="">${esc(t('callbacks.notAsked'))}</option>${SCORES.map((n) => `<option value="${n}">${n} · ${esc(t(`satisfaction.${n}`))}</option>`).join('')}</select>`).join('')}
        <label for="recommend-${esc(id)}">${esc(t('callbacks.recommend'))}</label>
        <select id="recommend-${esc(id)}" data-recommend><option value="">${esc(t('callbacks.notAsked'))}</option>${RECOMMEND.map((n) => `<option value="${n}">${n}</option>`).join('')}</select>
      </div>
      <label for="comment-${esc(id)}">${esc(t('callbacks.comment'))}</label><input id="comment-${esc(id)}" data-comment>`;
}

/** Show the score questions only once the owner was reached. */
export function wireCallbackFields(el) {
  const scores = el.querySelector('[data-satisfaction-group]');
  const drivers = el.querySelector('[data-drivers]');
  for (const radio of el.querySelectorAll('[data-reached], [data-not-reached]')) {
    radio.addEventListener('change', () => {
      scores.hidden = !el.querySelector('[data-reached]').checked;
      drivers.hidden = scores.hidden;
    });
  }
}

/** The callback body from the answers under `el`, or what the agent still has to say (a string). */
export function readCallback(el) {
  const reachedYes = el.querySelector('[data-reached]').checked;
  const reachedNo = el.querySelector('[data-not-reached]').checked;
  const score = el.querySelector('[data-score]:checked');
  if (!reachedYes && !reachedNo) return t('callbacks.sayIfReached');
  if (reachedYes && !score) return t('callbacks.saySatisfaction');
  const answer = (select) => (reachedYes && select.value !== '' ? Number(select.value) : null);
  const body = {
    reached: reachedYes,
    satisfaction: reachedYes ? Number(score.value) : null,
    recommend: answer(el.querySelector('[data-recommend]')),
    comment: el.querySelector('[data-comment]').value.trim(),
  };
  for (const select of el.querySelectorAll('[data-driver]')) body[select.dataset.driver] = answer(select);
  return body;
}

function wire(cardEl, ctx) {
  const id = cardEl.dataset.callback;
  const error = cardEl.querySelector('[data-callback-error]');
  const say = (message) => {
    error.textContent = message;
    error.hidden = !message;
  };
  wireCallbackFields(cardEl);
  cardEl.querySelector('[data-record]').addEventListener('click', async (event) => {
    const body = readCallback(cardEl);
    if (typeof body === 'string') return say(body);
    say('');
    event.target.disabled = true;
    const result = await workOrderAction(id, 'callback', body);
    const out = cardEl.querySelector('[data-result]');
    out.classList.remove('hidden');
    if (result.state === 'conflict') {
      out.textContent = refusal(result.conflict);
      event.target.disabled = false;
      ctx.refreshConflicts();
    } else out.textContent = result.state === 'delivered' ? t('callbacks.recorded') : t('job.queued');
  });
}

/** Render the queue. */
export async function render(root, params, ctx) {
  root.innerHTML = `<h2>${esc(t('callbacks.title'))}</h2><p class="muted">${esc(t('app.loading'))}</p>`;
  let page;
  try {
    page = await listCallbacks({ site: ctx.user.siteIds[0] });
  } catch {
    root.innerHTML = `<h2>${esc(t('callbacks.title'))}</h2><p class="card error">${esc(t('callbacks.unavailable'))}</p>`;
    return;
  }
  const more = page.total > page.items.length ? `<p class="muted small">${esc(t('callbacks.more', { shown: page.items.length, total: page.total }))}</p>` : '';
  root.innerHTML = `<h2>${esc(t('callbacks.title'))} (${page.total})</h2>${page.items.map(card).join('') || `<p class="card muted">${esc(t('callbacks.none'))}</p>`}${more}
    <div id="campaigns"></div>`;
  renderCampaigns(root.querySelector('#campaigns'), ctx);
  for (const cardEl of root.querySelectorAll('[data-callback]')) wire(cardEl, ctx);
  tick(root);
  clearInterval(timer);
  timer = setInterval(() => tick(root), 1000);
}

/** Stop the countdown timer. */
export function unmount() {
  clearInterval(timer);
}
