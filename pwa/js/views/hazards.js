/**
 * The hazard ledger (隐患台账): counts by risk, the list (open and most serious first), one hazard with its
 * history and a form for each move the server says this user may make now (`allowedActions`): 分析, 临时管控,
 * 整改 (a work order for a technician), 复查 and 销号. Moves go through the outbox like every mutation.
 */

import { createHazard, getHazard, hazardCounts, hazardMove, hazardPhotoUrl, hazardsCsv, hazardsPrintPage, listHazards, listUsers } from '../api.js';
import { esc, formatDateTime } from '../format.js';
import { currentLocale, refusal, t, tOr } from '../i18n.js';

const RISKS = ['major', 'high', 'medium', 'low'];
const OVERSIGHT = ['admin', 'manager', 'supervisor'];
let photoUrl = null;

function badge(hazard) {
  return `<span class="badge risk-${esc(hazard.riskLevel)}">${esc(t(`hazard.risk.${hazard.riskLevel}`))}</span>
    <span class="badge" data-hazard-status>${esc(t(`hazard.status.${hazard.status}`))}</span>
    ${hazard.overdue ? `<span class="badge overdue">${esc(t('hazard.overdue'))}</span>` : ''}`;
}

// ---- the list ----

// The print view's filters: the ledger's open states together, or one state; any risk level, or one.
function printForm() {
  const open = ['registered', 'analysed', 'controlled', 'rectifying', 'rechecked'];
  const statuses = [['', t('hazardPrint.all')], [open.join(','), t('hazardPrint.openOnly')], ['closed', t('hazard.status.closed')]];
  const risks = [['', t('hazardPrint.all')], ...RISKS.map((r) => [r, t(`hazard.risk.${r}`)])];
  const options = (list) => list.map(([value, text]) => `<option value="${esc(value)}">${esc(text)}</option>`).join('');
  return `<form class="card hidden" id="hazard-print">
    <h3>${esc(t('hazardPrint.title'))}</h3>
    <label for="hazard-print-status">${esc(t('hazardPrint.status'))}</label><select id="hazard-print-status">${options(statuses)}</select>
    <label for="hazard-print-risk">${esc(t('hazardPrint.risk'))}</label><select id="hazard-print-risk">${options(risks)}</select>
    <div class="actions"><button type="submit" id="hazard-print-go">${esc(t('hazardPrint.print'))}</button></div>
  </form>`;
}

async function renderList(root, ctx) {
  const oversight = OVERSIGHT.includes(ctx.user.role);
  root.innerHTML = `<h2>${esc(t('hazard.title'))}</h2>
    <section class="card" id="hazard-counts"></section>
    <div class="actions">
      <button type="button" id="hazard-new" class="secondary">${esc(t('hazard.new'))}</button>
      ${oversight ? `<button type="button" id="hazard-csv" class="secondary">${esc(t('hazard.exportCsv'))}</button>` : ''}
      ${oversight ? `<button type="button" id="hazard-print-open" class="secondary">${esc(t('hazardPrint.button'))}</button>` : ''}
    </div>
    ${oversight ? printForm() : ''}
    <form class="card hidden" id="hazard-form">
      <label for="hazard-place">${esc(t('hazard.place'))}</label><input id="hazard-place" maxlength="200" required>
      <label for="hazard-description">${esc(t('hazard.description'))}</label><textarea id="hazard-description" rows="3" maxlength="4000" required></textarea>
      <label for="hazard-risk">${esc(t('hazard.riskLevel'))}</label>
      <select id="hazard-risk">${RISKS.map((r) => `<option value="${r}" ${r === 'medium' ? 'selected' : ''}>${esc(t(`hazard.risk.${r}`))}</option>`).join('')}</select>
      <p class="form-error" id="hazard-form-error" hidden></p>
      <div class="actions"><button type="submit">${esc(t('hazard.register'))}</button></div>
    </form>
    <div id="hazard-list"><p class="muted">${esc(t('app.loading'))}</p></div>`;
  const [page, counts] = await Promise.all([listHazards({ limit: 200 }), hazardCounts().catch(() => null)]);
  if (counts) {
    root.querySelector('#hazard-counts').innerHTML = `<dl class="facts">
      <dt>${esc(t('hazard.open'))}</dt><dd data-count="open">${counts.totals.open}</dd>
      <dt>${esc(t('hazard.overdue'))}</dt><dd data-count="overdue">${counts.totals.overdue}</dd>
      <dt>${esc(t('hazard.closed'))}</dt><dd data-count="closed">${counts.totals.closed}</dd></dl>`;
  }
  root.querySelector('#hazard-list').innerHTML = page.items.length
    ? page.items
        .map(
          (h) => `<a class="card hazard-item" href="#/hazards/${esc(h.id)}" data-hazard="${esc(h.id)}">
            <h3>${esc(h.number)} · ${esc(h.place)}</h3><p>${badge(h)}</p>
            <p class="muted small">${esc(h.description)}</p>
            ${h.deadline ? `<p class="small">${esc(t('hazard.deadline'))}: ${esc(h.deadline)}</p>` : ''}</a>`,
        )
        .join('')
    : `<p class="card muted">${esc(t('hazard.none'))}</p>`;
  root.querySelector('#hazard-new').addEventListener('click', () => root.querySelector('#hazard-form').classList.toggle('hidden'));
  root.querySelector('#hazard-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const outcome = await createHazard({
      place: root.querySelector('#hazard-place').value.trim(),
      description: root.querySelector('#hazard-description').value.trim(),
      riskLevel: root.querySelector('#hazard-risk').value,
    });
    if (outcome.state === 'conflict') {
      const error = root.querySelector('#hazard-form-error');
      error.textContent = refusal(outcome.conflict);
      error.hidden = false;
      return;
    }
    renderList(root, ctx);
  });
  const printOpen = root.querySelector('#hazard-print-open');
  if (printOpen) {
    printOpen.addEventListener('click', () => root.querySelector('#hazard-print').classList.toggle('hidden'));
    root.querySelector('#hazard-print').addEventListener('submit', async (event) => {
      event.preventDefault();
      const value = (id) => root.querySelector(`#${id}`).value;
      // the page opens on its own, to print (A4) or save; the same rows as the CSV
      const page = await hazardsPrintPage({ status: value('hazard-print-status'), risk: value('hazard-print-risk'), lang: currentLocale() });
      window.open(URL.createObjectURL(new Blob([page], { type: 'text/html' })), '_blank');
    });
  }
  const csvButton = root.querySelector('#hazard-csv');
  if (csvButton) {
    csvButton.addEventListener('click', async () => {
      const url = URL.createObjectURL(await hazardsCsv());
      const link = document.createElement('a');
      link.href = url;
      link.download = 'hazards.csv';
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    });
  }
}

// ---- one hazard ----

function fact(key, value) {
  return value ? `<dt>${esc(t(key))}</dt><dd>${esc(value)}</dd>` : '';
}

function moveForm(action, people) {
  const field = (id, key, rows = 2) => `<label for="${id}">${esc(t(key))}</label><textarea id="${id}" rows="${rows}" maxlength="4000"></textarea>`;
  const options = (list) => list.map((u) => `<option value="${esc(u.id)}">${esc(u.displayName)}</option>`).join('');
  const bodies = {
    analyse: `${field('move-cause', 'hazard.cause')}
      <label for="move-responsible">${esc(t('hazard.responsible'))}</label><select id="move-responsible">${options(people.staff)}</select>
      <label for="move-deadline">${esc(t('hazard.deadline'))}</label><input id="move-deadline" type="date">
      ${field('move-standard', 'hazard.standard')}`,
    control: field('move-measure', 'hazard.measure'),
    rectify: `<label for="move-assignee">${esc(t('hazard.assignee'))}</label><select id="move-assignee">${options(people.technicians)}</select>`,
    recheck: field('move-note', 'hazard.recheckNote'),
    recheck_failed: '',
    close: field('move-evidence', 'hazard.evidence', 3),
  };
  return `<section class="card move" data-move="${action}"><h3>${esc(t(`hazard.action.${action}`))}</h3>
    ${bodies[action]}<p class="form-error" data-move-error hidden></p>
    <div class="actions"><button type="button" data-submit="${action}">${esc(t(`hazard.action.${action}`))}</button></div></section>`;
}

function fieldsFor(root, action) {
  const value = (id) => (root.querySelector(`#${id}`) || {}).value || '';
  switch (action) {
    case 'analyse':
      return { cause: value('move-cause'), responsibleId: value('move-responsible'), deadline: value('move-deadline') || null, standard: value('move-standard') };
    case 'control':
      return { measure: value('move-measure') };
    case 'rectify':
      return { assigneeId: value('move-assignee') };
    case 'recheck':
    case 'recheck_failed':
      return { note: value('move-note') };
    default:
      return { evidence: value('move-evidence') };
  }
}

async function renderHazard(root, id, ctx) {
  const hazard = await getHazard(id);
  const allowed = hazard.allowedActions.filter((a) => a !== 'recheck_failed');
  const needsPeople = allowed.includes('analyse') || allowed.includes('rectify');
  const staff = needsPeople ? await listUsers({}).catch(() => []) : [];
  const people = { staff, technicians: staff.filter((u) => u.role === 'technician') };
  root.innerHTML = `<p><a href="#/hazards">${esc(t('app.back'))}</a></p>
    <section class="card"><h2>${esc(hazard.number)} · ${esc(hazard.place)}</h2><p>${badge(hazard)}</p>
      <p>${esc(hazard.description)}</p>
      <div id="hazard-photo"></div>
      <dl class="facts">
        ${fact('hazard.source', tOr(`hazard.source.${hazard.source}`, hazard.source))}
        ${fact('hazard.reportedBy', `${hazard.reportedByName || ''} ${formatDateTime(hazard.reportedAt)}`)}
        ${fact('hazard.cause', hazard.cause)}
        ${fact('hazard.responsible', hazard.responsibleName)}
        ${fact('hazard.deadline', hazard.deadline)}
        ${fact('hazard.standard', hazard.standard)}
        ${fact('hazard.measure', hazard.controlMeasure)}
        ${fact('hazard.workOrder', hazard.rectificationNumber)}
        ${fact('hazard.rectifiedBy', hazard.rectifiedByName)}
        ${fact('hazard.recheckNote', hazard.recheckNote)}
        ${fact('hazard.recheckedBy', hazard.recheckedByName)}
        ${fact('hazard.evidence', hazard.closingEvidence)}
        ${fact('hazard.closedBy', hazard.closedByName)}
      </dl></section>
    ${allowed.map((a) => moveForm(a, people)).join('')}
    <section class="card"><h3>${esc(t('hazard.history'))}</h3><ol class="history">
      ${hazard.events.map((e) => `<li>${esc(formatDateTime(e.at))} · ${esc(tOr(`hazard.event.${e.action}`, e.action))} · ${esc(e.actorName || t('hazard.system'))}</li>`).join('')}
    </ol></section>`;
  if (hazard.hasPhoto) {
    hazardPhotoUrl(hazard.id)
      .then((url) => {
        if (photoUrl) URL.revokeObjectURL(photoUrl);
        photoUrl = url;
        root.querySelector('#hazard-photo').innerHTML = `<img class="hazard-photo" alt="${esc(t('hazard.photo'))}" src="${esc(url)}">`;
      })
      .catch(() => {});
  }
  if (allowed.includes('recheck')) {
    const box = root.querySelector("[data-move='recheck'] .actions");
    box.insertAdjacentHTML('beforeend', `<button type="button" class="secondary" data-submit="recheck_failed">${esc(t('hazard.action.recheck_failed'))}</button>`);
  }
  for (const button of root.querySelectorAll('[data-submit]')) {
    button.addEventListener('click', async () => {
      const action = button.dataset.submit;
      const section = button.closest('[data-move]');
      const error = section.querySelector('[data-move-error]');
      error.hidden = true;
      button.disabled = true;
      const outcome = await hazardMove(hazard.id, action, fieldsFor(root, action));
      button.disabled = false;
      if (outcome.state === 'conflict') {
        error.textContent = refusal(outcome.conflict);
        error.hidden = false;
        return;
      }
      if (outcome.state === 'queued') {
        error.textContent = t('hazard.queued');
        error.hidden = false;
        return;
      }
      renderHazard(root, id, ctx);
    });
  }
}

/** #/hazards: the ledger; #/hazards/<id>: one hazard. */
export async function render(root, params, ctx) {
  if (params[0]) await renderHazard(root, params[0], ctx);
  else await renderList(root, ctx);
}

export function unmount() {
  if (photoUrl) URL.revokeObjectURL(photoUrl);
  photoUrl = null;
}
