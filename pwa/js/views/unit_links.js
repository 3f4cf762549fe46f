/**
 * Owners' links on paper (#/ownerLinks, managers): one button per building opens its A4 sheet of QR codes,
 * one per unit with the unit under it, to print for the doors or the lobby.
 */

import { listBuildings, unitLinkSheet } from '../api.js';
import { esc } from '../format.js';
import { t } from '../i18n.js';

export async function render(root) {
  const page = await listBuildings();
  root.innerHTML = `
    <section class="card">
      <h2>${esc(t('ownerLinks.title'))}</h2>
      <p class="muted">${esc(t('ownerLinks.hint'))}</p>
    </section>
    <ul class="plain unit-link-buildings">${page.items
      .map(
        (b) => `<li class="card row" data-building="${esc(b.id)}">
          <strong>${esc(b.name)}</strong>
          <button type="button" data-sheet="${esc(b.id)}">${esc(t('ownerLinks.print'))}</button>
        </li>`,
      )
      .join('') || `<li class="card muted">${esc(t('ownerLinks.none'))}</li>`}</ul>
    <p class="hint" id="owner-links-error" role="status"></p>`;
  for (const button of root.querySelectorAll('[data-sheet]')) {
    button.addEventListener('click', async () => {
      try {
        // the sheet opens on its own, to print (A4) and cut out
        const sheet = await unitLinkSheet(button.dataset.sheet);
        window.open(URL.createObjectURL(new Blob([sheet], { type: 'text/html' })), '_blank');
      } catch (error) {
        root.querySelector('#owner-links-error').textContent = error.message;
      }
    });
  }
}
