/**
 * The hazard ledger at a glance on the dashboard: open, overdue and closed hazards per risk level (重大 / 较大
 * / 一般 / 低), as GET /hazards/counts says for the site on screen; overdue ones stand out.
 */

import { hazardCounts } from '../../api.js';
import { esc } from '../../format.js';
import { t } from '../../i18n.js';
import { number } from './numbers.js';

// The order the ledger itself sorts by: the most serious first.
const RISKS = ['major', 'high', 'medium', 'low'];
const COLUMNS = ['open', 'overdue', 'closed'];

function cell(column, value) {
  const tone = column === 'overdue' && value > 0 ? ' class="bad"' : '';
  return `<td data-col="${column}"${tone}>${esc(number(value))}</td>`;
}

/** Fill `box` with the hazard counts of `site`. */
export async function mountHazardCounts(box, site) {
  if (!box) return;
  const counts = await hazardCounts(site).catch(() => null);
  if (!counts) {
    box.innerHTML = `<h3>${esc(t('dashHazards.title'))}</h3><p class="muted">${esc(t('dash.unavailable'))}</p>`;
    return;
  }
  const rows = RISKS.map((risk) => {
    const c = (counts.byRisk || {})[risk] || {};
    return `<tr data-risk="${risk}"><th scope="row"><span class="badge risk-${risk}">${esc(t(`hazard.risk.${risk}`))}</span></th>
      ${COLUMNS.map((col) => cell(col, c[col] || 0)).join('')}</tr>`;
  }).join('');
  const totals = counts.totals || {};
  box.innerHTML = `<div class="row"><h3 class="grow">${esc(t('dashHazards.title'))}</h3>
      <a class="button secondary" href="#/hazards">${esc(t('dashHazards.ledger'))}</a></div>
    <table class="dash-hazards" data-hazard-counts>
      <thead><tr><th scope="col">${esc(t('hazard.riskLevel'))}</th>${COLUMNS.map((col) => `<th scope="col">${esc(t(`dashHazards.${col}`))}</th>`).join('')}</tr></thead>
      <tbody>${rows}</tbody>
      <tfoot><tr data-risk="total"><th scope="row">${esc(t('dashHazards.total'))}</th>${COLUMNS.map((col) => cell(col, totals[col] || 0)).join('')}</tr></tfoot>
    </table>`;
}
