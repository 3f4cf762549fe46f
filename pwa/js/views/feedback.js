/**
 * Suggestions and praise (建议/表扬): the desk's worklist. Each one shows what the owner said, where it was
 * routed (the site's supervisor; praise also onto the praised person's record) and, until it is answered,
 * a form to record the answer given to the owner — which closes it. Taken at intake (views/intake.js) or
 * filed from an owner's page.
 */

import { answerFeedback, listFeedback } from '../api.js';
import { esc, formatDateTime } from '../format.js';
import { choices, label, refusal, t } from '../i18n.js';
import { dismissConflict, listConflicts } from '../outbox.js';

const FILTERS = ['open', 'answered', 'all'];

function viaOptions() {
  return (choices().contactVia || ['phone', 'sms', 'visit']).map((v) => `<option value="${v}">${esc(label('contact', v))}</option>`).join('');
}

function itemHtml(f) {
  const who = [f.reporterName, f.reporterPhone].filter(Boolean).join(' ');
  const facts = [
    f.unitLabel,
    who,
    label('channel', f.channel),
    formatDateTime(f.createdAt),
    f.receivedByName ? t('feedback.takenBy', { name: f.receivedByName }) : t('feedback.filedByOwner'),
  ].filter(Boolean);
  const routed = [
    f.routedToName ? t('feedback.routedTo', { name: f.routedToName }) : t('feedback.notRouted'),
    f.praisedName ? t('feedback.onRecordOf', { name: f.praisedName }) : '',
  ].filter(Boolean);
  const answer = f.answeredAt
    ? `<p class="small" data-answered>${esc(t('feedback.answered', { name: f.answeredByName || '', via: label('contact', f.answerVia), at: formatDateTime(f.answeredAt) }))}<br>${esc(f.answer)}</p>`
    : `<div class="feedback-answer">
        <label for="via-${esc(f.id)}">${esc(t('complaint.via'))}</label><select id="via-${esc(f.id)}">${viaOptions()}</select>
        <label for="answer-${esc(f.id)}">${esc(t('complaint.said'))}</label><textarea id="answer-${esc(f.id)}" rows="2"></textarea>
        <div class="actions"><button type="button" data-offers="answer" data-answer="${esc(f.id)}">${esc(t('feedback.answer'))}</button></div>
        <p class="form-error" data-error-for="${esc(f.id)}" role="alert" hidden></p>
      </div>`;
  return `<li class="card" data-feedback="${esc(f.id)}" data-kind="${esc(f.kind)}">
      <div class="row"><span class="badge ${f.kind === 'praise' ? '' : 'p2'}">${esc(label('feedbackKind', f.kind))}</span>
        <span class="badge">${esc(f.answeredAt ? t('feedback.closed') : t('feedback.open'))}</span></div>
      <p>${esc(f.text)}</p>
      <div class="muted small">${esc(facts.join(' · '))}</div>
      <div class="small" data-routed>${esc(routed.join(' · '))}</div>
      ${answer}
    </li>`;
}

async function draw(root, filter, ctx) {
  const list = root.querySelector('#feedback-list');
  const open = filter === 'all' ? undefined : filter === 'open';
  let page;
  try {
    page = await listFeedback({ site: ctx.user.siteIds[0], open, limit: 100 });
  } catch {
    list.innerHTML = `<p class="card error">${esc(t('feedback.unavailable'))}</p>`;
    return;
  }
  root.querySelector('#feedback-count').textContent = t('feedback.count', { count: page.total });
  list.innerHTML = page.items.length ? `<ul class="plain">${page.items.map(itemHtml).join('')}</ul>` : `<p class="muted">${esc(t('feedback.none'))}</p>`;
  for (const button of list.querySelectorAll('[data-answer]')) {
    button.addEventListener('click', async () => {
      const id = button.dataset.answer;
      const error = list.querySelector(`[data-error-for="${id}"]`);
      const summary = list.querySelector(`#answer-${id}`).value.trim();
      error.hidden = true;
      if (!summary) {
        error.textContent = t('complaint.saySaid');
        error.hidden = false;
        return;
      }
      button.disabled = true;
      const result = await answerFeedback(id, { via: list.querySelector(`#via-${id}`).value, summary });
      button.disabled = false;
      if (result.state === 'conflict') {
        error.textContent = refusal(result.conflict);
        error.hidden = false;
        for (const stored of await listConflicts().catch(() => [])) {
          if (stored.entryId === (result.conflict || {}).entryId) await dismissConflict(stored.id);
        }
        ctx.refreshConflicts();
        return;
      }
      ctx.refreshBanner();
      await draw(root, filter, ctx);
    });
  }
}

/** Render the worklist, open ones first. */
export async function render(root, params, ctx) {
  let filter = 'open';
  root.innerHTML = `<h2>${esc(t('feedback.title'))}</h2>
    <p class="muted small" id="feedback-count"></p>
    <div class="tabs" role="group">${FILTERS.map((f) => `<button type="button" data-filter="${f}" aria-pressed="${String(f === filter)}">${esc(t(`feedback.filter.${f}`))}</button>`).join('')}</div>
    <div id="feedback-list"><p class="muted">${esc(t('app.loading'))}</p></div>`;
  for (const tab of root.querySelectorAll('[data-filter]')) {
    tab.addEventListener('click', () => {
      filter = tab.dataset.filter;
      for (const other of root.querySelectorAll('[data-filter]')) other.setAttribute('aria-pressed', String(other === tab));
      draw(root, filter, ctx);
    });
  }
  await draw(root, filter, ctx);
}
