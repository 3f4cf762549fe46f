/**
 * The escalated and major complaints as a worklist of their own, for supervisors and managers (not only on
 * the manager's dashboard): who holds each, its running clocks, the apology call owed or made. Live.
 */

import { esc } from '../format.js';
import { t } from '../i18n.js';
import { mountEscalated, unmountEscalated } from './dashboard/escalated.js';

/** Render the worklist for the user's first site. */
export async function render(root, params, ctx) {
  root.innerHTML = `<h2>${esc(t('escalated.title'))}</h2>
    <p class="muted small">${esc(t('escalated.hint'))}</p>
    <section class="card" id="dash-escalated"></section>`;
  await mountEscalated(root.querySelector('#dash-escalated'), ctx.user.siteIds[0]);
}

/** Stop the live list. */
export function unmount() {
  unmountEscalated();
}
