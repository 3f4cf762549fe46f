/** The assign control shared by intake and the dispatch board: technicians, suggestions first. */

import { listUsers, suggestions, workOrderAction } from '../api.js';
import { esc } from '../format.js';
import { t } from '../i18n.js';

let technicianCache = null;

async function technicians(site) {
  if (!technicianCache) technicianCache = await listUsers({ role: 'technician', site }).catch(() => []);
  return technicianCache;
}

/** Fill `box` with a technician picker and an assign button for work order `id`; `done(result)` after. */
export async function renderAssign(box, id, site, done) {
  const [people, ranked] = await Promise.all([technicians(site), suggestions(id).catch(() => [])]);
  const rankedIds = ranked.map((s) => s.userId || s.id);
  const ordered = [...ranked.map((s) => people.find((p) => p.id === (s.userId || s.id)) || { id: s.userId || s.id, displayName: s.displayName }),
    ...people.filter((p) => !rankedIds.includes(p.id))];
  box.innerHTML = `<div class="row">
      <select class="grow" data-assignee aria-label="${esc(t('dispatch.technician'))}">${ordered
        .map((p, i) => `<option value="${esc(p.id)}">${i < rankedIds.length ? '★ ' : ''}${esc(p.displayName || p.username)}${p.skills ? ` (${esc(p.skills.map((s) => t(`category.${s}`)).join('、'))})` : ''}</option>`)
        .join('')}</select>
      <button type="button" data-assign>${esc(t('action.assign'))}</button></div>
    ${ranked.length ? `<p class="muted small">${esc(t('dispatch.suggested'))}</p>` : ''}`;
  box.querySelector('[data-assign]').addEventListener('click', async (event) => {
    event.target.disabled = true;
    const assigneeId = box.querySelector('[data-assignee]').value;
    const result = await workOrderAction(id, 'assign', { assigneeId });
    done(result);
  });
}
