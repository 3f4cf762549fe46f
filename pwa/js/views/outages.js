/**
 * Planned water and power cuts (#/outages, supervisors and managers): announce one for a building — every
 * resident is told once by SMS — and say when it is over ("restored", told once more).
 */

import { announceOutage, listBuildings, listPlannedOutages, restoreOutage } from '../api.js';
import { esc, formatDateTime } from '../format.js';
import { label, refusal, t } from '../i18n.js';

function outageHtml(o) {
  const state = o.restoredAt
    ? `<span class="badge ready">${esc(t('outages.restoredAt', { time: formatDateTime(o.restoredAt) }))}</span>`
    : `<button type="button" data-restore="${esc(o.id)}">${esc(t('outages.restore'))}</button>`;
  return `<li class="card" data-planned="${esc(o.id)}">
      <div class="row"><strong>${esc(o.building)}</strong><span class="badge">${esc(label('outageKind', o.kind))}</span></div>
      <p>${esc(formatDateTime(o.startsAt))} – ${esc(formatDateTime(o.endsAt))}</p>
      ${o.note ? `<p class="muted">${esc(o.note)}</p>` : ''}
      ${state}
      <p class="hint" data-restore-error="${esc(o.id)}" role="status"></p>
    </li>`;
}

export async function render(root) {
  const [buildings, planned] = await Promise.all([listBuildings(), listPlannedOutages()]);
  root.innerHTML = `
    <section class="card">
      <h2>${esc(t('outages.title'))}</h2>
      <p class="muted">${esc(t('outages.hint'))}</p>
      <form id="outage-form">
        <label for="outage-building">${esc(t('outages.building'))}</label>
        <select id="outage-building" required>${buildings.items.map((b) => `<option value="${esc(b.id)}">${esc(b.name)}</option>`).join('')}</select>
        <label for="outage-kind">${esc(t('outages.kind'))}</label>
        <select id="outage-kind">${['water', 'power'].map((k) => `<option value="${k}">${esc(label('outageKind', k))}</option>`).join('')}</select>
        <label for="outage-start">${esc(t('outages.start'))}</label><input id="outage-start" type="datetime-local" required>
        <label for="outage-end">${esc(t('outages.end'))}</label><input id="outage-end" type="datetime-local" required>
        <label for="outage-note">${esc(t('outages.note'))}</label><input id="outage-note" maxlength="200">
        <div class="actions"><button type="submit" id="outage-send">${esc(t('outages.announce'))}</button></div>
        <p class="hint" id="outage-result" role="status"></p>
      </form>
    </section>
    <ul class="planned-outages">${planned.items.map(outageHtml).join('') || `<li class="card muted">${esc(t('outages.none'))}</li>`}</ul>`;
  root.querySelector('#outage-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = (id) => root.querySelector(id).value;
    const result = await announceOutage({
      buildingId: value('#outage-building'),
      kind: value('#outage-kind'),
      startsAt: new Date(value('#outage-start')).toISOString(),
      endsAt: new Date(value('#outage-end')).toISOString(),
      note: value('#outage-note').trim(),
    });
    const box = root.querySelector('#outage-result');
    if (result.state === 'conflict') {
      box.textContent = refusal(result.conflict);
      return;
    }
    if (result.state === 'queued') {
      box.textContent = t('outages.queued');
      return;
    }
    await render(root);
    root.querySelector('#outage-result').textContent = t('outages.announced');
  });
  for (const button of root.querySelectorAll('[data-restore]')) {
    button.addEventListener('click', async () => {
      button.disabled = true;
      const result = await restoreOutage(button.dataset.restore);
      if (result.state === 'conflict') {
        root.querySelector(`[data-restore-error="${button.dataset.restore}"]`).textContent = refusal(result.conflict);
        return;
      }
      await render(root);
    });
  }
}
