/**
 * Intake (报修/投诉) for agents: find the home as the caller says it ("3栋1单元1201", or their phone), record
 * the call, hand it out. After saving, the form is empty and ready for the next call while the call just
 * recorded waits above it to be assigned.
 */

import { createFeedback, createWorkOrder, listUsers, lookupUnits, unitLabel } from '../api.js';
import { esc, formatDateTime, fromSiteInput, siteTimeZone } from '../format.js';
import { choices, label, refusal, t } from '../i18n.js';
import { dismissConflict, listConflicts } from '../outbox.js';
import { renderAssign } from './assign.js';
import { mountEmergencyReport } from './emergency_report.js';

// The ways a call reaches the desk in person; the rest of the server's desk channels come from devices.
const IN_PERSON = ['phone', 'counter'];
// Suggestions and praise (建议/表扬) are taken here too, but are not work orders: nothing is dispatched.
const FEEDBACK_KINDS = new Set(['suggestion', 'praise']);
// Refusals about the home are shown next to the unit picker, not at the bottom of a long form.
const UNIT_FIELDS = new Set(['unitId', 'unitNumber', 'building', 'ownerPhone', 'address']);

function categoryOptions(kind) {
  const list = (choices().categories || {})[kind] || [];
  return list.map((c) => `<option value="${c}">${esc(label('category', c))}</option>`).join('');
}

function understoodText(understood) {
  if (!understood) return '';
  const parts = [];
  if (understood.building) parts.push(t('intake.understoodBuilding', { building: understood.building }));
  if (understood.stairwell) parts.push(t('intake.understoodStairwell', { stairwell: understood.stairwell }));
  if (understood.room) parts.push(t('intake.understoodRoom', { room: understood.room }));
  return parts.join(' ');
}

function formHtml(staffOptions, praisedOptions) {
  return `<form id="intake-form" class="card" novalidate>
      <h3>${esc(t('intake.findUnit'))}</h3>
      <label for="lookup-address">${esc(t('intake.address'))}</label>
      <input id="lookup-address" autocomplete="off" placeholder="${esc(t('intake.addressExample'))}">
      <label for="lookup-phone">${esc(t('intake.phone'))}</label><input id="lookup-phone" type="tel" inputmode="tel">
      <div class="actions"><button type="button" class="secondary" id="lookup">${esc(t('intake.lookup'))}</button></div>
      <div id="unit-results" aria-live="polite"></div>
      <p id="unit-error" class="form-error" role="alert" hidden></p>
      <label for="channel">${esc(t('intake.channel'))}</label>
      <select id="channel">${IN_PERSON.filter((c) => (choices().deskChannels || IN_PERSON).includes(c)).map((c) => `<option value="${c}">${esc(label('channel', c))}</option>`).join('')}</select>
      <div id="work-fields">
      <label for="category">${esc(t('intake.category'))}</label><select id="category"></select>
      <label for="priority">${esc(t('intake.priority'))}</label>
      <select id="priority"><option value="" selected>${esc(t('intake.priorityAuto'))}</option>${(choices().priorities || []).map((p) => `<option value="${p}">${esc(label('priority', p))}</option>`).join('')}</select>
      <label for="title">${esc(t('intake.subject'))}</label><input id="title" required maxlength="200">
      <label for="description">${esc(t('intake.description'))}</label><textarea id="description" rows="3"></textarea>
      </div>
      <div id="feedback-fields" hidden>
        <label for="feedback-text">${esc(t('feedback.text'))}</label><textarea id="feedback-text" rows="3" maxlength="4000"></textarea>
        <div id="praised-row">
          <label for="praised">${esc(t('feedback.praised'))}</label>
          <select id="praised"><option value="">${esc(t('feedback.praisedNobody'))}</option>${praisedOptions}</select>
        </div>
      </div>
      <label for="reporter-name">${esc(t('intake.reporterName'))}</label><input id="reporter-name">
      <label for="reporter-phone">${esc(t('intake.reporterPhone'))}</label><input id="reporter-phone" type="tel">
      <label class="checklist" id="in-home-row"><input type="checkbox" id="in-home" checked> ${esc(t('intake.inHome'))}</label>
      <div id="appointment-row">
        <label for="appointment-at">${esc(t('intake.appointment'))}</label>
        <input id="appointment-at" type="datetime-local">
        <p class="muted small">${esc(t('intake.appointmentHint'))} ${esc(t('appointment.siteZone', { zone: siteTimeZone() }))}</p>
      </div>
      <div id="complaint-fields" hidden>
        <label for="complained-about">${esc(t('intake.complainedAbout'))}</label>
        <select id="complained-about"><option value="">${esc(t('intake.complainedAboutNobody'))}</option>${staffOptions}</select>
        <label class="checklist"><input type="checkbox" id="major"> ${esc(t('intake.major'))}</label>
      </div>
      <section class="read-back" aria-live="polite">
        <h4>${esc(t('intake.readBack'))}</h4>
        <p id="read-back" class="muted"></p>
      </section>
      <p id="intake-error" class="form-error" role="alert" hidden></p>
      <div class="actions"><button type="submit" id="intake-submit">${esc(t('intake.submit'))}</button></div>
    </form>`;
}

/** Render the intake screen. */
export async function render(root, params, ctx) {
  const site = ctx.user.siteIds[0];
  const staff = await listUsers({ site }).catch(() => []);
  const staffOptions = staff
    .filter((u) => u.active !== false)
    .map((u) => `<option value="${esc(u.id)}">${esc(u.displayName)} · ${esc(label('role', u.role))}</option>`)
    .join('');
  const praisedOptions = staff
    .filter((u) => u.active !== false && u.role !== 'admin')
    .map((u) => `<option value="${esc(u.id)}">${esc(u.displayName)} · ${esc(label('role', u.role))}</option>`)
    .join('');
  root.innerHTML = `<h2>${esc(t('intake.title'))}</h2>
    <div id="emergency-report"></div>
    <div id="intake-recorded"></div>
    <div class="tabs kinds" role="group">
      <button type="button" data-kind="repair" aria-pressed="true">${esc(t('kind.repair'))}</button>
      <button type="button" data-kind="complaint" aria-pressed="false">${esc(t('kind.complaint'))}</button>
      <button type="button" data-kind="suggestion" aria-pressed="false">${esc(label('feedbackKind', 'suggestion'))}</button>
      <button type="button" data-kind="praise" aria-pressed="false">${esc(label('feedbackKind', 'praise'))}</button>
    </div>
    <div id="intake-form-box"></div>`;
  // a call-in emergency (an entrapment phoned in, a fire reported) opens its plan from here
  mountEmergencyReport(root.querySelector('#emergency-report'), { list: false });
  const state = { kind: 'repair', unit: null, filled: { name: '', phone: '' } };

  const setKind = (kind) => {
    state.kind = kind;
    for (const tab of root.querySelectorAll('[data-kind]')) tab.setAttribute('aria-pressed', String(tab.dataset.kind === kind));
    const feedback = FEEDBACK_KINDS.has(kind);
    if (!feedback) root.querySelector('#category').innerHTML = categoryOptions(kind);
    root.querySelector('#complaint-fields').hidden = kind !== 'complaint';
    root.querySelector('#work-fields').hidden = feedback;
    root.querySelector('#feedback-fields').hidden = !feedback;
    root.querySelector('#praised-row').hidden = kind !== 'praise';
    // A complaint is handled at the desk: nobody goes into the home for it; nor for a suggestion or praise.
    root.querySelector('#in-home-row').hidden = kind !== 'repair';
    root.querySelector('#appointment-row').hidden = kind !== 'repair';
    readBack();
  };

  const showFieldError = (id, message) => {
    const box = root.querySelector(id);
    box.textContent = message || '';
    box.hidden = !message;
  };

  // The contact filled in from the home found; what the agent typed themselves is never overwritten.
  const fillContact = (name, phone) => {
    for (const [id, key, value] of [['#reporter-name', 'name', name], ['#reporter-phone', 'phone', phone]]) {
      const input = root.querySelector(id);
      if (!input.value || input.value === state.filled[key]) input.value = value;
      state.filled[key] = value;
    }
  };

  const chooseUnit = (unit) => {
    state.unit = unit;
    showFieldError('#unit-error', '');
    const resident = (unit.residents || [])[0];
    fillContact(resident ? resident.name || '' : '', resident ? resident.phone || '' : '');
    readBack();
  };

  const showFound = (found) => {
    const box = root.querySelector('#unit-results');
    box.innerHTML = found
      .map((u, i) => {
        const people = (u.residents || []).map((r) => `${r.name} ${r.phone || r.phoneMasked || ''}`).join('、');
        return `<label class="checklist unit-choice"><input type="radio" name="unit" value="${i}" ${i === 0 ? 'checked' : ''}> ${esc(unitLabel(u))} · ${esc(people)}</label>`;
      })
      .join('');
    chooseUnit(found[0]);
    for (const radio of box.querySelectorAll('input[name="unit"]')) radio.addEventListener('change', () => chooseUnit(found[Number(radio.value)]));
  };

  const showNear = (body, asked) => {
    const box = root.querySelector('#unit-results');
    const understood = understoodText(body.understood);
    const heading = `<p class="muted" id="unit-missing">${esc(t('intake.noUnitFor', { address: asked }))}${understood ? ` ${esc(t('intake.understood', { what: understood }))}` : ''}</p>`;
    if (!body.near.length) {
      box.innerHTML = `${heading}<p class="muted">${esc(t('intake.noNearUnits'))}</p>`;
      return;
    }
    box.innerHTML = `${heading}<p>${esc(t('intake.didYouMean'))}</p>
      <div class="near-units">${body.near
        .map((u, i) => `<button type="button" class="secondary near-unit" data-near="${i}"><span>${esc(unitLabel(u))}</span><span class="muted small">${esc(label('nearReason', u.reason))}</span></button>`)
        .join('')}</div>`;
    for (const button of box.querySelectorAll('[data-near]')) {
      button.addEventListener('click', async () => {
        const near = body.near[Number(button.dataset.near)];
        // Asked for by the agent now: only then does the home's register show who lives there.
        const again = await lookupUnits({ site, building: near.buildingId, number: near.number }).catch(() => ({ items: [] }));
        if (again.items.length) showFound(again.items);
      });
    }
  };

  const lookup = async () => {
    const box = root.querySelector('#unit-results');
    const phone = root.querySelector('#lookup-phone').value.trim();
    const address = root.querySelector('#lookup-address').value.trim();
    state.unit = null;
    fillContact('', '');
    showFieldError('#unit-error', '');
    if (!phone && !address) {
      showFieldError('#unit-error', t('intake.addressOrPhone'));
      return;
    }
    let body;
    try {
      body = await lookupUnits(phone ? { site, phone } : { site, address });
    } catch (error) {
      box.innerHTML = '';
      showFieldError('#unit-error', refusal(error.problem) || t('intake.lookupFailed'));
      return;
    }
    if (body.items.length) showFound(body.items);
    else if (phone) box.innerHTML = `<p class="muted" id="unit-missing">${esc(t('intake.noUnitForPhone'))}</p>`;
    else showNear(body, address);
  };

  const newForm = () => {
    root.querySelector('#intake-form-box').innerHTML = formHtml(staffOptions, praisedOptions);
    state.unit = null;
    state.filled = { name: '', phone: '' };
    setKind(state.kind);
    root.querySelector('#lookup').addEventListener('click', lookup);
    for (const id of ['#lookup-address', '#lookup-phone']) {
      root.querySelector(id).addEventListener('keydown', (event) => {
        if (event.key === 'Enter') {
          event.preventDefault();
          lookup();
        }
      });
    }
    root.querySelector('#intake-form').addEventListener('submit', submit);
    // DOMAIN.md "Repair" 1: repeat it back to the caller — the summary to read out before pressing the button.
    root.querySelector('#intake-form').addEventListener('input', readBack);
    root.querySelector('#intake-form').addEventListener('change', readBack);
    readBack();
  };

  function readBack() {
    const value = (id) => (root.querySelector(id) ? root.querySelector(id).value.trim() : '');
    if (FEEDBACK_KINDS.has(state.kind)) {
      const praised = root.querySelector('#praised');
      const parts = [
        label('feedbackKind', state.kind),
        state.unit ? unitLabel(state.unit) : '',
        value('#reporter-name'),
        value('#reporter-phone'),
        state.kind === 'praise' && praised.value ? t('feedback.readBackPraised', { name: praised.selectedOptions[0].textContent.split(' · ')[0] }) : '',
        value('#feedback-text'),
      ].filter(Boolean);
      root.querySelector('#read-back').textContent = value('#feedback-text') ? parts.join(' · ') : t('intake.readBackEmpty');
      return;
    }
    const appointment = state.kind !== 'complaint' && value('#appointment-at') ? formatDateTime(fromSiteInput(value('#appointment-at'))) : '';
    const parts = [
      label('kind', state.kind),
      state.unit ? unitLabel(state.unit) : '',
      value('#reporter-name'),
      value('#reporter-phone'),
      label('category', value('#category')),
      value('#title'),
      appointment ? t('intake.readBackAppointment', { time: appointment }) : '',
    ].filter(Boolean);
    root.querySelector('#read-back').textContent = value('#title') ? parts.join(' · ') : t('intake.readBackEmpty');
  }

  const showRecorded = async (created) => {
    const box = root.querySelector('#intake-recorded');
    box.innerHTML = `<section class="card recorded" id="intake-done" data-job="${esc(created.id)}">
        <div class="row"><h3 class="grow">${esc(t('intake.created', { number: created.number || '' }))}</h3>
          <a class="button secondary" href="#/job/${esc(created.id)}">${esc(t('intake.openJob'))}</a></div>
        <div class="muted small">${esc(created.title)} · ${esc(unitLabel(created) || created.location || '')}</div>
        <div id="assign-box"></div>
      </section>`;
    await renderAssign(box.querySelector('#assign-box'), created, site, (assigned, assignee) => {
      if (assigned.state === 'conflict') return;
      box.querySelector('#assign-box').innerHTML = `<p class="badge" id="assign-result">${esc(assigned.state === 'delivered' ? t('dispatch.assignedTo', { name: assignee.name }) : t('intake.queued'))}</p>`;
    });
  };

  const showFeedbackRecorded = (made) => {
    root.querySelector('#intake-recorded').innerHTML = `<section class="card recorded" id="intake-done" data-feedback="${esc(made.id)}">
        <h3>${esc(t('feedback.recorded', { kind: label('feedbackKind', made.kind) }))}</h3>
        <div class="muted small">${esc(made.text)}</div>
        <p id="feedback-routed">${esc(made.routedToName ? t('feedback.routedTo', { name: made.routedToName }) : t('feedback.notRouted'))}${made.praisedName ? ` · ${esc(t('feedback.onRecordOf', { name: made.praisedName }))}` : ''}</p>
        <a class="button secondary" href="#/feedback">${esc(t('feedback.openList'))}</a>
      </section>`;
  };

  async function submitFeedback() {
    const text = root.querySelector('#feedback-text').value.trim();
    if (!text) {
      showFieldError('#intake-error', t('feedback.textRequired'));
      root.querySelector('#feedback-text').focus();
      return;
    }
    const button = root.querySelector('#intake-submit');
    button.disabled = true;
    const result = await createFeedback({
      site,
      kind: state.kind,
      text,
      channel: root.querySelector('#channel').value,
      unitId: state.unit ? state.unit.id : null,
      reporterName: root.querySelector('#reporter-name').value.trim() || null,
      reporterPhone: root.querySelector('#reporter-phone').value.trim() || null,
      praisedUserId: state.kind === 'praise' ? root.querySelector('#praised').value || null : null,
    });
    button.disabled = false;
    if (result.state === 'conflict') {
      const problem = result.conflict || {};
      if (UNIT_FIELDS.has(problem.field)) showFieldError('#unit-error', refusal(problem));
      else showFieldError('#intake-error', refusal(problem));
      for (const stored of await listConflicts().catch(() => [])) {
        if (stored.entryId === problem.entryId) await dismissConflict(stored.id);
      }
      ctx.refreshConflicts();
      return;
    }
    newForm();
    if (result.state !== 'delivered') {
      root.querySelector('#intake-recorded').innerHTML = `<p class="card" id="intake-done">${esc(t('intake.queued'))}</p>`;
      return;
    }
    showFeedbackRecorded(result.body);
  }

  async function submit(event) {
    event.preventDefault();
    showFieldError('#intake-error', '');
    if (FEEDBACK_KINDS.has(state.kind)) {
      await submitFeedback();
      return;
    }
    const inHome = state.kind !== 'complaint' && root.querySelector('#in-home').checked;
    if (!root.querySelector('#title').value.trim()) {
      showFieldError('#intake-error', t('intake.subjectRequired'));
      root.querySelector('#title').focus();
      return;
    }
    const fields = {
      site,
      kind: state.kind,
      channel: root.querySelector('#channel').value,
      category: root.querySelector('#category').value,
      // Empty: the server suggests one from the category and the words used (leaks and entrapments go first).
      priority: root.querySelector('#priority').value || null,
      title: root.querySelector('#title').value.trim(),
      description: root.querySelector('#description').value.trim(),
      unitId: state.unit ? state.unit.id : null,
      reporterName: root.querySelector('#reporter-name').value.trim() || null,
      reporterPhone: root.querySelector('#reporter-phone').value.trim() || null,
      inHome,
    };
    // The time agreed with the owner, on the site's clock (whatever zone this device keeps); the technician's
    // arrival is held to it.
    const appointment = root.querySelector('#appointment-at').value;
    if (appointment && state.kind !== 'complaint') {
      fields.appointmentRequested = true;
      fields.appointmentAt = fromSiteInput(appointment);
    }
    if (state.kind === 'complaint') {
      fields.major = root.querySelector('#major').checked;
      fields.complainedAboutId = root.querySelector('#complained-about').value || null;
    }
    const button = root.querySelector('#intake-submit');
    button.disabled = true;
    const result = await createWorkOrder(fields);
    button.disabled = false;
    if (result.state === 'conflict') {
      const problem = result.conflict || {};
      const message = refusal(problem);
      if (UNIT_FIELDS.has(problem.field)) {
        showFieldError('#unit-error', message);
        root.querySelector('#lookup-address').focus();
      } else showFieldError('#intake-error', message);
      // Said next to the field it is about, and the form is still here to fix: no second notice on top.
      for (const stored of await listConflicts().catch(() => [])) {
        if (stored.entryId === problem.entryId) await dismissConflict(stored.id);
      }
      ctx.refreshConflicts();
      return;
    }
    // Taken (or safely queued): the form is cleared for the next caller straight away.
    newForm();
    root.querySelector('#lookup-address').focus();
    if (result.state !== 'delivered') {
      root.querySelector('#intake-recorded').innerHTML = `<p class="card" id="intake-done">${esc(t('intake.queued'))}</p>`;
      return;
    }
    await showRecorded(result.body);
  }

  for (const tab of root.querySelectorAll('[data-kind]')) tab.addEventListener('click', () => setKind(tab.dataset.kind));
  newForm();
}
