/**
 * The drill reminder on the dashboard: the emergency plans the site on screen has not drilled within a year
 * (GET /drills/due, the rule the managers' reminder follows), each with the day of its last drill or "never".
 */

import { drillsDue } from '../../api.js';
import { esc } from '../../format.js';
import { currentLocale, t } from '../../i18n.js';

function itemHtml(item) {
  const name = currentLocale() === 'en' ? item.labelEn : item.labelZh;
  const last = item.lastHeldOn ? t('dashDrills.last', { day: item.lastHeldOn }) : t('dashDrills.never');
  return `<li data-drill-due="${esc(item.scenario)}"><strong>${esc(name)}</strong> <span class="bad">${esc(last)}</span></li>`;
}

/** Fill `box` with the scenarios `site` has not drilled within a year. */
export async function mountDrillsDue(box, site) {
  if (!box) return;
  const due = await drillsDue(site).catch(() => null);
  const heading = `<div class="row"><h3 class="grow">${esc(t('dashDrills.title'))}</h3>
      <a class="button secondary" href="#/safety">${esc(t('dashDrills.register'))}</a></div>`;
  if (!due) {
    box.innerHTML = `${heading}<p class="muted">${esc(t('dash.unavailable'))}</p>`;
    return;
  }
  box.innerHTML = due.items.length
    ? `${heading}<ul class="history" data-drills-due>${due.items.map(itemHtml).join('')}</ul>`
    : `${heading}<p class="muted" data-drills-due="none">${esc(t('dashDrills.none'))}</p>`;
}
