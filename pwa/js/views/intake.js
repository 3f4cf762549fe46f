/** Intake (报修/投诉) for agents: find the unit by building+number or the caller's phone, record, assign. */

import { createWorkOrder, lookupUnits, unitLabel } from '../api.js';
import { esc } from '../format.js';
import { choices, label, t } from '../i18n.js';
import { renderAssign } from './assign.js';

// The ways a call reaches the desk in person; the rest of the server's desk channels come from devices.
const IN_PERSON = ['phone', 'counter'];

function categoryOptions(kind) {
  const list = (choices().categories || {})[kind] || [];
  return list.map((c) => `<option value="${c}">${esc(label('category', c))}</option>`).join('');
}

/** Render the intake form. */
export async function render(root, params, ctx) {
  const site = ctx.user.siteIds[0];
  let kind = 'repair';
  let unit = null;
  root.innerHTML = `<h2>${esc(t('intake.title'))}</h2>
    <div class="tabs" role="group">
      <button type="button" data-kind="repair" aria-pressed="true">${esc(t('kind.repair'))}</button>
      <button type="button" data-kind="complaint" aria-pressed="false">${esc(t('kind.complaint'))}</button>
    </div>
    <form id="intake-form" class="card">
      <h3>${esc(t('intake.findUnit'))}</h3>
      <div class="row">
        <div class="grow"><label for="lookup-building">${esc(t('intake.building'))}</label><input id="lookup-building" placeholder="A"></div>
        <div class="grow"><label for="lookup-number">${esc(t('intake.number'))}</label><input id="lookup-number" inputmode="numeric" placeholder="302"></div>
      </div>
      <label for="lookup-phone">${esc(t('intake.phone'))}</label><input id="lookup-phone" type="tel" inputmode="tel">
      <div class="actions"><button type="button" class="secondary" id="lookup">${esc(t('intake.lookup'))}</button></div>
      <div id="unit-results"></div>
      <label for="channel">${esc(t('intake.channel'))}</label>
      <select id="channel">${IN_PERSON.filter((c) => (choices().deskChannels || IN_PERSON).includes(c)).map((c) => `<option value="${c}">${esc(label('channel', c))}</option>`).join('')}</select>
      <label for="category">${esc(t('intake.category'))}</label><select id="category">${categoryOptions(kind)}</select>
      <label for="priority">${esc(t('intake.priority'))}</label>
      <select id="priority"><option value="" selected>${esc(t('intake.priorityAuto'))}</option>${(choices().priorities || []).map((p) => `<option value="${p}">${esc(label('priority', p))}</option>`).join('')}</select>
      <label for="title">${esc(t('intake.subject'))}</label><input id="title" required maxlength="200">
      <label for="description">${esc(t('intake.description'))}</label><textarea id="description" rows="3"></textarea>
      <label for="reporter-name">${esc(t('intake.reporterName'))}</label><input id="reporter-name">
      <label for="reporter-phone">${esc(t('intake.reporterPhone'))}</label><input id="reporter-phone" type="tel">
      <label class="checklist"><input type="checkbox" id="in-home" checked> ${esc(t('intake.inHome'))}</label>
      <label class="checklist hidden" id="major-row"><input type="checkbox" id="major"> ${esc(t('intake.major'))}</label>
      <p id="intake-error" class="conflict hidden" role="alert"></p>
      <div class="actions"><button type="submit" id="intake-submit">${esc(t('intake.submit'))}</button></div>
    </form>
    <section id="intake-done" class="card hidden"></section>`;

  for (const tab of root.querySelectorAll('[data-kind]')) {
    tab.addEventListener('click', () => {
      kind = tab.dataset.kind;
      for (const other of root.querySelectorAll('[data-kind]')) other.setAttribute('aria-pressed', String(other === tab));
      root.querySelector('#category').innerHTML = categoryOptions(kind);
      root.querySelector('#major-row').classList.toggle('hidden', kind !== 'complaint');
    });
  }

  root.querySelector('#lookup').addEventListener('click', async () => {
    const box = root.querySelector('#unit-results');
    const phone = root.querySelector('#lookup-phone').value.trim();
    const building = root.querySelector('#lookup-building').value.trim();
    const number = root.querySelector('#lookup-number').value.trim();
    const found = await lookupUnits(phone ? { site, phone } : { site, building, number }).catch(() => []);
    if (!found.length) {
      box.innerHTML = `<p class="muted">${esc(t('intake.noUnit'))}</p>`;
      return;
    }
    box.innerHTML = found
      .map((u, i) => {
        const people = (u.residents || []).map((r) => `${r.name} ${r.phone || r.phoneMasked || ''}`).join('、');
        return `<label class="checklist"><input type="radio" name="unit" value="${i}" ${i === 0 ? 'checked' : ''}> ${esc(unitLabel(u))} · ${esc(people)}</label>`;
      })
      .join('');
    const choose = (i) => {
      unit = found[i];
      const resident = (unit.residents || [])[0];
      if (resident) {
        root.querySelector('#reporter-name').value = resident.name || '';
        root.querySelector('#reporter-phone').value = resident.phone || '';
      }
    };
    choose(0);
    for (const radio of box.querySelectorAll('input[name="unit"]')) radio.addEventListener('change', () => choose(Number(radio.value)));
  });

  root.querySelector('#intake-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const error = root.querySelector('#intake-error');
    error.classList.add('hidden');
    const fields = {
      site,
      kind,
      channel: root.querySelector('#channel').value,
      category: root.querySelector('#category').value,
      // Empty: the server suggests one from the category and the words used (leaks and entrapments go first).
      priority: root.querySelector('#priority').value || null,
      title: root.querySelector('#title').value.trim(),
      description: root.querySelector('#description').value.trim(),
      unitId: unit ? unit.id : null,
      reporterName: root.querySelector('#reporter-name').value.trim() || null,
      reporterPhone: root.querySelector('#reporter-phone').value.trim() || null,
      inHome: root.querySelector('#in-home').checked,
    };
    if (kind === 'complaint') fields.major = root.querySelector('#major').checked;
    const result = await createWorkOrder(fields);
    if (result.state !== 'delivered') {
      error.textContent = result.state === 'conflict' ? result.conflict.detail : t('intake.queued');
      error.classList.remove('hidden');
      ctx.refreshConflicts();
      return;
    }
    const created = result.body;
    const done = root.querySelector('#intake-done');
    done.classList.remove('hidden');
    done.innerHTML = `<h3>${esc(t('intake.created', { number: created.number || '' }))}</h3><div id="assign-box"></div>`;
    root.querySelector('#intake-form').classList.add('hidden');
    await renderAssign(done.querySelector('#assign-box'), created.id, site, (assigned) => {
      done.insertAdjacentHTML(
        'beforeend',
        `<p class="badge" id="assign-result">${esc(assigned.state === 'delivered' ? t('intake.assigned') : assigned.state === 'conflict' ? assigned.conflict.detail : t('intake.queued'))}</p>
         <div class="actions"><button type="button" class="secondary" id="intake-again">${esc(t('intake.again'))}</button></div>`,
      );
      done.querySelector('#intake-again').addEventListener('click', () => render(root, params, ctx));
    });
  });
}
