/** The service record (技服表格) as the server renders it, in a sandboxed frame. */

import { receiptHtml } from '../api.js';
import { esc } from '../format.js';
import { currentLocale, t } from '../i18n.js';

/** Render the receipt of a job. */
export async function render(root, params) {
  const id = params[0];
  root.innerHTML = `<div class="row"><h2 class="grow">${esc(t('receipt.title'))}</h2>
    <a class="button secondary" href="#/job/${esc(id)}">${esc(t('app.back'))}</a></div>
    <p class="muted">${esc(t('app.loading'))}</p>`;
  try {
    const html = await receiptHtml(id, currentLocale());
    const frame = document.createElement('iframe');
    frame.className = 'receipt-frame';
    frame.title = t('receipt.title');
    // The record is the server's HTML; a sandbox without scripts keeps it from touching the app.
    frame.setAttribute('sandbox', '');
    frame.srcdoc = html;
    root.querySelector('p').replaceWith(frame);
  } catch {
    root.querySelector('p').textContent = t('receipt.unavailable');
  }
}
