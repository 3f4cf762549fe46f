/**
 * On the guard console during a water or power outage (an alarm on a building's pump or mains, or a planned
 * cut): the building's vulnerable residents to visit — unit, family name, what they need — each with a
 * "visited" button. No phone numbers. Empty (and hidden) when no outage is on.
 */

import { markVisited, outageVisits } from '../api.js';
import { esc, formatDateTime } from '../format.js';
import { label, refusal, t } from '../i18n.js';

function whatLabel(outage) {
  return outage.source === 'alarm' ? label('alarm', outage.what) : label('outageKind', outage.what);
}

function residentHtml(outage, r) {
  const done = r.visitedAt
    ? `<span class="badge ready" data-visited="${esc(r.residentId)}">${esc(t('visits.visited', { time: formatDateTime(r.visitedAt), by: r.visitedBy || '' }))}</span>`
    : `<button type="button" data-visit="${esc(r.residentId)}" data-outage="${esc(outage.id)}" data-source="${esc(outage.source)}">${esc(t('visits.markVisited'))}</button>`;
  return `<li class="visit" data-resident="${esc(r.residentId)}">
      <div class="row"><strong>${esc(t('visits.unit', { unit: r.unit }))}</strong><span>${esc(r.name)}</span></div>
      <p class="muted">${esc(r.need || t('visits.noNeed'))}</p>
      ${done}
    </li>`;
}

function outageHtml(outage) {
  return `<section class="card outage" data-outage-card="${esc(outage.id)}">
      <h3>${esc(t('visits.title', { building: outage.building, what: whatLabel(outage) }))}</h3>
      <p class="muted small">${esc(t('visits.since', { time: formatDateTime(outage.since) }))}</p>
      <ul class="history visits">${outage.residents.map((r) => residentHtml(outage, r)).join('') || `<li class="muted">${esc(t('visits.none'))}</li>`}</ul>
      <p class="hint" data-visit-error="${esc(outage.id)}" role="status"></p>
    </section>`;
}

/** Draw the visit list into `box` (and again after each mark); nothing when no outage is on. */
export async function mountOutageVisits(box) {
  if (!box) return;
  let page;
  try {
    page = await outageVisits();
  } catch {
    return;
  }
  box.innerHTML = page.items.map(outageHtml).join('');
  box.hidden = page.items.length === 0;
  for (const button of box.querySelectorAll('[data-visit]')) {
    button.addEventListener('click', async () => {
      button.disabled = true;
      const result = await markVisited({ source: button.dataset.source, outageId: button.dataset.outage, residentId: button.dataset.visit });
      if (result.state === 'conflict') {
        button.disabled = false;
        box.querySelector(`[data-visit-error="${button.dataset.outage}"]`).textContent = refusal(result.conflict);
        return;
      }
      if (result.state === 'queued') {
        button.textContent = t('visits.queued');
        return;
      }
      await mountOutageVisits(box);
    });
  }
}
