/**
 * The service record (技服表格) as the server renders it, full page: the record itself fills the screen (its
 * own style kept apart in a shadow root, no frame), with print and share-with-the-owner above it. Sharing
 * uses the phone's share sheet where there is one, else copies the record's verify link.
 */

import { receiptHtml } from '../api.js';
import { esc } from '../format.js';
import { currentLocale, t } from '../i18n.js';

function mount(host, html) {
  // DOMParser never runs scripts; the record is the server's own page.
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const shadow = host.attachShadow({ mode: 'open' });
  const adapt = document.createElement('link');
  adapt.rel = 'stylesheet';
  adapt.href = '/css/receipt-in-app.css';
  shadow.append(adapt);
  // The record's own style, character for character: the app's policy admits that text by its hash only.
  for (const style of doc.querySelectorAll('style')) {
    const copy = document.createElement('style');
    copy.textContent = style.textContent;
    shadow.append(copy);
  }
  const paper = document.createElement('article');
  paper.className = 'paper';
  paper.lang = doc.documentElement.lang || currentLocale();
  paper.append(...[...doc.body.childNodes].map((node) => document.importNode(node, true)));
  shadow.append(paper);
  const qr = shadow.querySelector('[data-verify-url]');
  return { verifyUrl: qr ? qr.dataset.verifyUrl : '', title: doc.title };
}

async function share(record, say) {
  if (navigator.share) {
    try {
      await navigator.share({ title: record.title, text: t('receipt.shareText'), url: record.verifyUrl });
      return;
    } catch (error) {
      // The owner closed the share sheet: nothing to do. Anything else falls back to the link.
      if (error && error.name === 'AbortError') return;
    }
  }
  try {
    await navigator.clipboard.writeText(record.verifyUrl);
    say(t('receipt.linkCopied'));
  } catch {
    // No clipboard either (an old browser, no permission): show the link to copy by hand.
    say(t('receipt.linkIs', { url: record.verifyUrl }));
  }
}

/** Render the receipt of a job. */
export async function render(root, params) {
  const id = params[0];
  root.classList.add('receipt-view');
  root.innerHTML = `<div class="row receipt-toolbar">
      <a class="button secondary" href="#/job/${esc(id)}">${esc(t('app.back'))}</a>
      <h2 class="grow">${esc(t('receipt.title'))}</h2>
      <button type="button" id="receipt-print" disabled>${esc(t('receipt.print'))}</button>
      <button type="button" class="secondary" id="receipt-share" disabled>${esc(t('receipt.share'))}</button>
    </div>
    <p class="muted receipt-note" id="receipt-note" role="status" aria-live="polite">${esc(t('app.loading'))}</p>
    <div id="receipt"></div>`;
  const note = root.querySelector('#receipt-note');
  const say = (message) => {
    note.textContent = message;
    note.hidden = !message;
  };
  let record;
  try {
    record = mount(root.querySelector('#receipt'), await receiptHtml(id, currentLocale()));
  } catch {
    say(t('receipt.unavailable'));
    return;
  }
  say('');
  root.querySelector('#receipt-print').disabled = false;
  root.querySelector('#receipt-print').addEventListener('click', () => window.print());
  const shareButton = root.querySelector('#receipt-share');
  shareButton.disabled = !record.verifyUrl;
  shareButton.addEventListener('click', () => share(record, say));
}
