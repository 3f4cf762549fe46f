/** The callback queue (回访): who to call, by when, and the outcome of each call. */

import { listCallbacks, unitLabel, workOrderAction } from '../api.js';
import { countdown, esc, formatDateTime } from '../format.js';
import { t, tOr } from '../i18n.js';

let timer = null;

function tick(root) {
  for (const el of root.querySelectorAll('[data-due]')) {
    const { overdue, text } = countdown(el.dataset.due);
    el.textContent = text;
    el.classList.toggle('overdue', overdue);
  }
}

/** Render the queue. */
export async function render(root, params, ctx) {
  root.innerHTML = `<h2>${esc(t('callbacks.title'))}</h2><p class="muted">${esc(t('app.loading'))}</p>`;
  let items;
  try {
    items = await listCallbacks();
  } catch {
    root.innerHTML = `<h2>${esc(t('callbacks.title'))}</h2><p class="card error">${esc(t('callbacks.unavailable'))}</p>`;
    return;
  }
  const cards = items.map((item) => {
    const job = item.workOrder || item;
    const id = item.workOrderId || job.id;
    const due = item.dueAt || (job.clocks || []).find((c) => c.clock === 'callback')?.dueAt;
    const phone = item.reporterPhone || job.reporterPhone || '';
    return `<section class="card" data-callback="${esc(id)}">
      <div class="row"><span class="badge">${esc(tOr(`kind.${job.kind}`, job.kind || ''))}</span>
        ${due ? `<span class="muted small">${esc(t('callbacks.due', { time: formatDateTime(due) }))}</span><span class="countdown" data-due="${esc(due)}"></span>` : ''}</div>
      <div class="job-title">${esc(job.title || '')}</div>
      <div class="muted small">${esc(job.number || '')} · ${esc(unitLabel(item))} · ${esc(item.reporterName || job.reporterName || '')}</div>
      ${phone ? `<a class="button secondary" href="tel:${esc(phone)}">${esc(t('job.call'))} ${esc(phone)}</a>` : ''}
      <label class="checklist"><input type="checkbox" data-reached checked> ${esc(t('callbacks.reached'))}</label>
      <label>${esc(t('callbacks.satisfaction'))}</label>
      <select data-satisfaction>${[5, 4, 3, 2, 1].map((n) => `<option value="${n}">${n} · ${esc(t(`satisfaction.${n}`))}</option>`).join('')}</select>
      <label>${esc(t('callbacks.comment'))}</label><input data-comment>
      <div class="actions"><button type="button" data-record>${esc(t('callbacks.record'))}</button></div>
      <p class="muted small hidden" data-result></p>
    </section>`;
  });
  root.innerHTML = `<h2>${esc(t('callbacks.title'))}</h2>${cards.join('') || `<p class="card muted">${esc(t('callbacks.none'))}</p>`}`;
  for (const card of root.querySelectorAll('[data-callback]')) {
    card.querySelector('[data-record]').addEventListener('click', async (event) => {
      event.target.disabled = true;
      const reached = card.querySelector('[data-reached]').checked;
      const result = await workOrderAction(card.dataset.callback, 'callback', {
        reached,
        satisfaction: reached ? Number(card.querySelector('[data-satisfaction]').value) : null,
        comment: card.querySelector('[data-comment]').value.trim(),
      });
      const out = card.querySelector('[data-result]');
      out.classList.remove('hidden');
      out.textContent = result.state === 'delivered' ? t('callbacks.recorded') : result.state === 'conflict' ? result.conflict.detail : t('job.queued');
      if (result.state === 'conflict') ctx.refreshConflicts();
    });
  }
  tick(root);
  clearInterval(timer);
  timer = setInterval(() => tick(root), 1000);
}

/** Stop the countdown timer. */
export function unmount() {
  clearInterval(timer);
}
