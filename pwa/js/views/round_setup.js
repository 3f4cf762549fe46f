/**
 * Laying out rounds (巡逻设置) for supervisors and managers: check points (name, place; switched off rather
 * than deleted, their QR code never changes), routes (points in walking order, expected minutes) and
 * schedules (every N hours inside a window, or fixed times, in the site's time), and the printable QR
 * sheets. Everything the server refuses is shown in the user's language from its code. A user of several
 * sites (a manager, an admin) picks the site at the top; the choice holds while the screen is open.
 */

import {
  createCheckPoint,
  createRoute,
  createSchedule,
  listCheckPoints,
  listRoutes,
  listSchedules,
  listSites,
  roundQrSheet,
  siteQrSheet,
  updateCheckPoint,
  updateRoute,
  updateSchedule,
} from '../api.js';
import { esc, formatDateTime } from '../format.js';
import { refusal, t } from '../i18n.js';

function activeBadge(active) {
  return active ? '' : ` <span class="badge">${esc(t('roundSetup.off'))}</span>`;
}

function scheduleText(schedule) {
  if (schedule.fixedTimes) return t('roundSetup.fixedAt', { times: schedule.fixedTimes.join('、') });
  return t('roundSetup.every', { hours: schedule.everyHours, start: schedule.windowStart, end: schedule.windowEnd });
}

function openSheet(html) {
  // the printable page opens on its own (A4), to print and stick the codes up at their points
  window.open(URL.createObjectURL(new Blob([html], { type: 'text/html' })), '_blank');
}

function pointItem(point) {
  return `<li class="setup-item" data-setup-point="${esc(point.id)}">
    <div class="grow"><b>${esc(point.name)}</b>${activeBadge(point.active)}<br><span class="muted small">${esc(point.place)}</span></div>
    <form class="setup-edit hidden" data-edit-point="${esc(point.id)}">
      <label>${esc(t('roundSetup.name'))}<input name="name" maxlength="100" required value="${esc(point.name)}"></label>
      <label>${esc(t('roundSetup.place'))}<input name="place" maxlength="200" value="${esc(point.place)}"></label>
      <label class="checklist"><input type="checkbox" name="active" ${point.active ? 'checked' : ''}> ${esc(t('roundSetup.inUse'))}</label>
      <div class="actions"><button type="submit">${esc(t('roundSetup.save'))}</button></div>
    </form>
    <div class="actions"><button type="button" class="secondary" data-toggle-edit="${esc(point.id)}">${esc(t('roundSetup.edit'))}</button></div>
  </li>`;
}

function routeItem(route) {
  return `<li class="setup-item" data-setup-route="${esc(route.id)}">
    <div class="grow"><b>${esc(route.name)}</b>${activeBadge(route.active)}<br>
      <span class="muted small">${esc(t('rounds.routeFacts', { points: route.points.length, minutes: route.expectedMinutes }))}</span><br>
      <span class="small">${route.points.map((p) => esc(p.name)).join(' → ')}</span></div>
    <form class="setup-edit hidden" data-edit-route="${esc(route.id)}">
      <label>${esc(t('roundSetup.name'))}<input name="name" maxlength="100" required value="${esc(route.name)}"></label>
      <label>${esc(t('roundSetup.minutes'))}<input name="minutes" type="number" min="1" max="720" required value="${esc(route.expectedMinutes)}"></label>
      <label class="checklist"><input type="checkbox" name="active" ${route.active ? 'checked' : ''}> ${esc(t('roundSetup.inUse'))}</label>
      <div class="actions"><button type="submit">${esc(t('roundSetup.save'))}</button></div>
    </form>
    <div class="actions"><button type="button" class="secondary" data-toggle-edit="${esc(route.id)}">${esc(t('roundSetup.edit'))}</button>
      <button type="button" class="secondary" data-route-sheet="${esc(route.id)}">${esc(t('rounds.qrSheet'))}</button></div>
  </li>`;
}

function scheduleItem(schedule, routes) {
  const route = routes.find((r) => r.id === schedule.routeId);
  return `<li class="setup-item" data-setup-schedule="${esc(schedule.id)}">
    <div class="grow"><b>${esc(route ? route.name : '')}</b>${activeBadge(schedule.active)}<br>
      <span class="small">${esc(scheduleText(schedule))}</span><br>
      ${schedule.active ? `<span class="muted small">${esc(t('roundSetup.nextSlot', { at: formatDateTime(schedule.nextSlotAt) }))}</span>` : ''}</div>
    <div class="actions"><button type="button" class="secondary" data-schedule-active="${schedule.active ? 'false' : 'true'}" data-schedule="${esc(schedule.id)}">
      ${esc(t(schedule.active ? 'roundSetup.switchOff' : 'roundSetup.switchOn'))}</button></div>
  </li>`;
}

// The sites the user may lay out and the one on screen (kept while the screen is open, across redraws).
let sites = [];
let site = null;

function sitePicker() {
  if (sites.length < 2) return '';
  return `<section class="card"><label for="setup-site">${esc(t('roundSetup.site'))}</label>
    <select id="setup-site">${sites.map((s) => `<option value="${esc(s.id)}" ${s.id === site ? 'selected' : ''}>${esc(s.name)}</option>`).join('')}</select></section>`;
}

async function draw(root, ctx) {
  const [points, routes, schedules] = await Promise.all([listCheckPoints({ site }), listRoutes({ site }), listSchedules({ site })]);
  const usable = points.filter((p) => p.active);
  root.innerHTML = `<p><a href="#/rounds">${esc(t('app.back'))}</a></p>
    <h2>${esc(t('roundSetup.title'))}</h2>
    ${sitePicker()}
    <p class="form-error" role="alert" id="setup-error" hidden></p>

    <section class="card" id="setup-points"><h3>${esc(t('roundSetup.points'))}</h3>
      <div class="actions"><button type="button" class="secondary" id="site-sheet">${esc(t('roundSetup.allCodes'))}</button></div>
      <ul class="setup-list">${points.map(pointItem).join('')}</ul>
      <form id="new-point"><h3>${esc(t('roundSetup.newPoint'))}</h3>
        <label for="new-point-name">${esc(t('roundSetup.name'))}</label><input id="new-point-name" maxlength="100" required>
        <label for="new-point-place">${esc(t('roundSetup.place'))}</label><input id="new-point-place" maxlength="200">
        <div class="actions"><button type="submit">${esc(t('roundSetup.add'))}</button></div>
      </form>
    </section>

    <section class="card" id="setup-routes"><h3>${esc(t('roundSetup.routes'))}</h3>
      <ul class="setup-list">${routes.map(routeItem).join('')}</ul>
      <form id="new-route"><h3>${esc(t('roundSetup.newRoute'))}</h3>
        <label for="new-route-name">${esc(t('roundSetup.name'))}</label><input id="new-route-name" maxlength="100" required>
        <label for="new-route-minutes">${esc(t('roundSetup.minutes'))}</label><input id="new-route-minutes" type="number" min="1" max="720" value="30" required>
        <p class="small">${esc(t('roundSetup.pickInOrder'))}</p>
        <div id="new-route-points">${usable
          .map((p) => `<label class="checklist"><input type="checkbox" value="${esc(p.id)}" data-route-point> <span class="order" data-order="${esc(p.id)}"></span> ${esc(p.name)}</label>`)
          .join('')}</div>
        <div class="actions"><button type="submit">${esc(t('roundSetup.add'))}</button></div>
      </form>
    </section>

    <section class="card" id="setup-schedules"><h3>${esc(t('roundSetup.schedules'))}</h3>
      <ul class="setup-list">${schedules.map((s) => scheduleItem(s, routes)).join('')}</ul>
      <form id="new-schedule"><h3>${esc(t('roundSetup.newSchedule'))}</h3>
        <label for="new-schedule-route">${esc(t('roundSetup.route'))}</label>
        <select id="new-schedule-route">${routes.filter((r) => r.active).map((r) => `<option value="${esc(r.id)}">${esc(r.name)}</option>`).join('')}</select>
        <fieldset class="risk-choice"><legend>${esc(t('roundSetup.when'))}</legend>
          <label class="button secondary"><input type="radio" name="schedule-kind" value="every" checked> ${esc(t('roundSetup.kindEvery'))}</label>
          <label class="button secondary"><input type="radio" name="schedule-kind" value="fixed"> ${esc(t('roundSetup.kindFixed'))}</label>
        </fieldset>
        <div data-kind="every">
          <label for="new-schedule-hours">${esc(t('roundSetup.everyHours'))}</label><input id="new-schedule-hours" type="number" min="1" max="24" value="2">
          <label for="new-schedule-start">${esc(t('roundSetup.windowStart'))}</label><input id="new-schedule-start" type="time" value="20:00">
          <label for="new-schedule-end">${esc(t('roundSetup.windowEnd'))}</label><input id="new-schedule-end" type="time" value="06:00">
        </div>
        <div data-kind="fixed" class="hidden">
          <label for="new-schedule-times">${esc(t('roundSetup.fixedTimes'))}</label><input id="new-schedule-times" placeholder="09:00, 15:00">
        </div>
        <div class="actions"><button type="submit">${esc(t('roundSetup.add'))}</button></div>
      </form>
    </section>`;
  wire(root, ctx);
}

function wire(root, ctx) {
  const error = root.querySelector('#setup-error');
  async function done(outcome) {
    if (outcome.state === 'conflict') {
      error.textContent = refusal(outcome.conflict);
      error.hidden = false;
      error.scrollIntoView({ block: 'center' });
      return;
    }
    if (outcome.state === 'queued') {
      error.textContent = t('roundSetup.queued');
      error.hidden = false;
      return;
    }
    await draw(root, ctx);
  }
  const value = (id) => root.querySelector(`#${id}`).value.trim();
  const picker = root.querySelector('#setup-site');
  if (picker) {
    picker.addEventListener('change', async () => {
      site = picker.value;
      await draw(root, ctx);
    });
  }

  for (const button of root.querySelectorAll('[data-toggle-edit]')) {
    button.addEventListener('click', () => button.closest('.setup-item').querySelector('.setup-edit').classList.toggle('hidden'));
  }
  for (const form of root.querySelectorAll('[data-edit-point]')) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const fields = { name: form.elements.name.value.trim(), place: form.elements.place.value.trim(), active: form.elements.active.checked };
      await done(await updateCheckPoint(form.dataset.editPoint, fields));
    });
  }
  for (const form of root.querySelectorAll('[data-edit-route]')) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const fields = { name: form.elements.name.value.trim(), expectedMinutes: Number(form.elements.minutes.value), active: form.elements.active.checked };
      await done(await updateRoute(form.dataset.editRoute, fields));
    });
  }
  for (const button of root.querySelectorAll('[data-schedule]')) {
    button.addEventListener('click', async () => done(await updateSchedule(button.dataset.schedule, { active: button.dataset.scheduleActive === 'true' })));
  }
  for (const button of root.querySelectorAll('[data-route-sheet]')) {
    button.addEventListener('click', async () => openSheet(await roundQrSheet(button.dataset.routeSheet)));
  }
  root.querySelector('#site-sheet').addEventListener('click', async () => openSheet(await siteQrSheet(site)));

  root.querySelector('#new-point').addEventListener('submit', async (event) => {
    event.preventDefault();
    await done(await createCheckPoint({ site, name: value('new-point-name'), place: value('new-point-place') }));
  });

  // the walking order is the order the points are ticked in
  const order = [];
  for (const box of root.querySelectorAll('[data-route-point]')) {
    box.addEventListener('change', () => {
      if (box.checked) order.push(box.value);
      else order.splice(order.indexOf(box.value), 1);
      for (const mark of root.querySelectorAll('[data-order]')) {
        const at = order.indexOf(mark.dataset.order);
        mark.textContent = at >= 0 ? `${at + 1}.` : '';
      }
    });
  }
  root.querySelector('#new-route').addEventListener('submit', async (event) => {
    event.preventDefault();
    const fields = { name: value('new-route-name'), expectedMinutes: Number(value('new-route-minutes')), checkPointIds: [...order] };
    await done(await createRoute(fields, site));
  });

  for (const radio of root.querySelectorAll("input[name='schedule-kind']")) {
    radio.addEventListener('change', () => {
      for (const part of root.querySelectorAll('[data-kind]')) part.classList.toggle('hidden', part.dataset.kind !== radio.value || !radio.checked);
    });
  }
  root.querySelector('#new-schedule').addEventListener('submit', async (event) => {
    event.preventDefault();
    const kind = root.querySelector("input[name='schedule-kind']:checked").value;
    const fields =
      kind === 'every'
        ? { everyHours: Number(value('new-schedule-hours')), windowStart: value('new-schedule-start'), windowEnd: value('new-schedule-end') }
        : { fixedTimes: value('new-schedule-times').split(/[,，、\s]+/).filter(Boolean) };
    await done(await createSchedule(value('new-schedule-route'), fields));
  });
}

/** #/rounds/setup: on the user's first site until another is picked. */
export async function render(root, params, ctx) {
  // the registry unreachable: the user's own site ids still let the screen work on the first one
  sites = await listSites().catch(() => ctx.user.siteIds.map((id) => ({ id, name: id })));
  if (!sites.some((s) => s.id === site)) site = sites.length ? sites[0].id : ctx.user.siteIds[0];
  await draw(root, ctx);
}
