/**
 * The quarterly safety check (季度安全检查) on the phone: the checks of the user's sites, and one check as a
 * list of its focus points, each answered "in order" or "finding" with a note, a photo and a risk level.
 * A finding enters the hazard ledger on the server (its number shows here once it has). Answers go through
 * the outbox with the phone's time, and the check is kept on the phone, so it fills in with no signal.
 */

import { answerSafetyPoint, getSafetyCheck, listSafetyChecks, safetyPointPhotoUrl } from '../api.js';
import { esc, formatDateTime } from '../format.js';
import { currentLocale, refusal, t } from '../i18n.js';
import { shrinkPhoto } from './rounds.js';

const STORE_PREFIX = 'caretaker.safetyCheck.';
const RISKS = ['major', 'high', 'medium', 'low'];
const photoUrls = [];

function keep(check) {
  localStorage.setItem(STORE_PREFIX + check.id, JSON.stringify(check));
  return check;
}

function kept(id) {
  return JSON.parse(localStorage.getItem(STORE_PREFIX + id) || 'null');
}

async function load(id) {
  try {
    const fresh = await getSafetyCheck(id);
    const local = kept(id);
    // answers given here and not yet delivered stay on screen until the server has them
    const waiting = new Map((local ? local.points : []).filter((p) => p.pending).map((p) => [p.code, p]));
    return keep({ ...fresh, points: fresh.points.map((p) => (p.outcome ? p : waiting.get(p.code) || p)) });
  } catch (error) {
    const local = kept(id);
    if (local) return local;
    throw error;
  }
}

function label(point) {
  return currentLocale() === 'en' ? point.labelEn : point.labelZh;
}

function hint(point) {
  return currentLocale() === 'en' ? point.hintEn : point.hintZh;
}

function answeredCount(check) {
  return check.points.filter((p) => p.outcome).length;
}

// ---- the list of checks ----

async function renderList(root) {
  root.innerHTML = `<h2>${esc(t('safetyCheck.title'))}</h2><p class="muted small">${esc(t('safetyCheck.intro'))}</p>
    <div id="safety-list"><p class="muted">${esc(t('app.loading'))}</p></div>`;
  const page = await listSafetyChecks({ limit: 20 });
  root.querySelector('#safety-list').innerHTML = page.items.length
    ? page.items
        .map(
          (c) => `<a class="card safety-check" href="#/safetyCheck/${esc(c.id)}" data-check="${esc(c.id)}">
            <h3>${esc(c.quarter)} · ${esc(c.siteName)} <span class="badge">${esc(t(`safetyCheck.status.${c.status}`))}</span></h3>
            <p class="small">${esc(t('safetyCheck.dueOn', { day: c.dueOn }))} · ${esc(t('safetyCheck.progress', { done: c.answered, total: c.pointCount }))}</p>
            ${c.findings ? `<p class="small flags">${esc(t('safetyCheck.findings', { count: c.findings }))}</p>` : ''}</a>`,
        )
        .join('')
    : `<p class="card muted">${esc(t('safetyCheck.none'))}</p>`;
}

// ---- one check ----

function pointHtml(check, point) {
  const answered = Boolean(point.outcome);
  const mark = !answered ? '○' : point.outcome === 'finding' ? '⚠' : '✓';
  const state = answered ? point.outcome : 'waiting';
  const details = answered
    ? `<p class="small">${esc(t(`safetyCheck.outcome.${point.outcome}`))}${point.riskLevel ? ` · <span class="badge risk-${esc(point.riskLevel)}">${esc(t(`hazard.risk.${point.riskLevel}`))}</span>` : ''}
        ${point.pending ? ` <span class="badge pending">${esc(t('safetyCheck.pending'))}</span>` : ''}</p>
        ${point.note ? `<p class="small">${esc(point.note)}</p>` : ''}
        ${point.hazardId ? `<p class="small"><a href="#/hazards/${esc(point.hazardId)}" data-hazard-link>${esc(t('safetyCheck.inLedger', { number: point.hazardNumber || '' }))}</a></p>` : ''}
        ${point.hasPhoto ? `<div data-photo="${esc(point.code)}"></div>` : ''}`
    : `<div class="actions">
        <button type="button" data-ok="${esc(point.code)}">${esc(t('safetyCheck.ok'))}</button>
        <button type="button" class="secondary" data-finding="${esc(point.code)}">${esc(t('safetyCheck.finding'))}</button>
      </div>`;
  return `<li class="card safety-point ${esc(state)}" data-point="${esc(point.code)}" data-state="${esc(state)}">
    <h3><span class="mark">${mark}</span> ${esc(point.position)}. ${esc(label(point))}</h3>
    <p class="muted small">${esc(hint(point))}</p>
    ${details}
  </li>`;
}

function findingForm(point) {
  return `<form class="safety-finding" data-form="${esc(point.code)}">
    <label for="finding-note-${esc(point.code)}">${esc(t('safetyCheck.note'))}</label>
    <textarea id="finding-note-${esc(point.code)}" rows="3" maxlength="1000" data-note></textarea>
    <fieldset class="risk-choice"><legend>${esc(t('safetyCheck.riskLevel'))}</legend>
      ${RISKS.map((r) => `<label class="button secondary"><input type="radio" name="risk-${esc(point.code)}" value="${r}"> ${esc(t(`hazard.risk.${r}`))}</label>`).join('')}
    </fieldset>
    <div class="actions">
      <label class="button secondary" for="finding-photo-${esc(point.code)}">${esc(t('safetyCheck.addPhoto'))}</label>
      <input id="finding-photo-${esc(point.code)}" class="hidden" type="file" accept="image/*" capture="environment" data-photo-input>
      <span class="muted small" data-photo-state></span>
    </div>
    <p class="form-error" role="alert" data-error hidden></p>
    <div class="actions"><button type="submit">${esc(t('safetyCheck.submitFinding'))}</button>
      <button type="button" class="secondary" data-cancel>${esc(t('safetyCheck.cancel'))}</button></div>
  </form>`;
}

async function renderCheck(root, id) {
  let check = await load(id);

  function draw() {
    root.innerHTML = `<p><a href="#/safetyCheck">${esc(t('app.back'))}</a></p>
      <section class="card"><h2>${esc(check.quarter)} · ${esc(check.siteName)}
        <span class="badge" id="check-status">${esc(t(`safetyCheck.status.${check.status}`))}</span></h2>
        <p class="small">${esc(t('safetyCheck.dueOn', { day: check.dueOn }))} ·
          <span id="check-progress">${esc(t('safetyCheck.progress', { done: answeredCount(check), total: check.points.length }))}</span></p>
        ${check.completedAt ? `<p class="small">${esc(t('safetyCheck.completedAt', { at: formatDateTime(check.completedAt) }))}</p>` : ''}
        <p class="form-error" role="alert" id="check-error" hidden></p>
      </section>
      <ol class="safety-points">${check.points.map((p) => pointHtml(check, p)).join('')}</ol>`;
    for (const box of root.querySelectorAll('[data-photo]')) {
      safetyPointPhotoUrl(check.id, box.dataset.photo)
        .then((url) => {
          photoUrls.push(url);
          box.innerHTML = `<img class="hazard-photo" alt="${esc(t('safetyCheck.photo'))}" src="${esc(url)}">`;
        })
        .catch(() => {});
    }
    for (const button of root.querySelectorAll('[data-ok]')) {
      button.addEventListener('click', () => send(button.dataset.ok, { outcome: 'ok' }));
    }
    for (const button of root.querySelectorAll('[data-finding]')) {
      button.addEventListener('click', () => openFinding(button.dataset.finding));
    }
  }

  function openFinding(code) {
    const item = root.querySelector(`[data-point='${code}']`);
    const point = check.points.find((p) => p.code === code);
    item.querySelector('.actions').remove();
    item.insertAdjacentHTML('beforeend', findingForm(point));
    const form = item.querySelector('form');
    let photo = null;
    form.querySelector('[data-note]').focus();
    form.querySelector('[data-photo-input]').addEventListener('change', async (event) => {
      const file = event.target.files[0];
      event.target.value = '';
      if (!file) return;
      photo = await shrinkPhoto(file);
      form.querySelector('[data-photo-state]').textContent = t('safetyCheck.photoAdded');
    });
    form.querySelector('[data-cancel]').addEventListener('click', draw);
    form.addEventListener('input', () => {
      form.querySelector('[data-error]').hidden = true;
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const note = form.querySelector('[data-note]').value.trim();
      const risk = form.querySelector(`input[name='risk-${code}']:checked`);
      const error = form.querySelector('[data-error]');
      // the server says the same (finding_needs_note / finding_needs_risk); said here too for offline use
      if (!note && !photo) {
        error.textContent = t('safetyCheck.describeFinding');
        error.hidden = false;
        return;
      }
      if (!risk) {
        error.textContent = t('safetyCheck.chooseRisk');
        error.hidden = false;
        return;
      }
      send(code, { outcome: 'finding', note, riskLevel: risk.value, photo });
    });
  }

  async function send(code, answer) {
    const clientAt = new Date().toISOString();
    const { photo, ...shown } = answer;
    check = keep({
      ...check,
      points: check.points.map((p) => (p.code === code ? { ...p, ...shown, answeredAt: clientAt, pending: true } : p)),
    });
    draw();
    const outcome = await answerSafetyPoint(check.id, code, answer, clientAt);
    if (outcome.state === 'delivered') {
      check = keep({ ...outcome.body, points: outcome.body.points.map((p) => (p.outcome ? p : check.points.find((c) => c.code === p.code && c.pending) || p)) });
      draw();
    } else if (outcome.state === 'conflict') {
      check = await load(check.id).catch(() => check);
      draw();
      const error = root.querySelector('#check-error');
      error.textContent = refusal(outcome.conflict);
      error.hidden = false;
    }
  }

  draw();
}

/** #/safetyCheck: the checks; #/safetyCheck/<id>: one check. */
export async function render(root, params) {
  if (params[0]) await renderCheck(root, params[0]);
  else await renderList(root);
}

export function unmount() {
  while (photoUrls.length) URL.revokeObjectURL(photoUrls.pop());
}
