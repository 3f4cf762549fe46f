/**
 * The owner's page: open the unit's link (#u=<link>, printed as a QR code), sign in with a code sent by SMS,
 * report a repair or a complaint, follow the unit's cases (who is coming, badge, arrival window, what was
 * done), rate finished work, write to the staff about a case and read their replies (#case/<id>), and
 * send a suggestion or praise (建议/表扬). Chinese first; the same catalogue labels as the staff app.
 */

import { choices, currentLocale, initI18n, label, refusal, setLocale, t, translateTree } from '../i18n.js';
import { esc, formatDateTime, setSiteTimeZone } from '../format.js';
import * as api from './api.js';

const LINK_KEY = 'caretaker.owner.link';
const view = document.getElementById('view');

function unitLink() {
  const match = location.hash.match(/u=([A-Za-z0-9]+)/);
  if (match) localStorage.setItem(LINK_KEY, match[1]);
  return (match && match[1]) || localStorage.getItem(LINK_KEY) || '';
}

function problemText(error) {
  return refusal(error.problem) || error.message;
}

async function renderSignIn(link) {
  let unit;
  try {
    unit = await api.unitOf(link);
  } catch (error) {
    view.innerHTML = `<section class="card error"><p>${esc(t('owner.badLink'))}</p></section>`;
    return;
  }
  view.innerHTML = `
    <section class="card">
      <h2>${esc(unit.site)}</h2>
      <p class="unit">${esc(t('owner.unit', { building: unit.building, unit: unit.unit }))}</p>
      <label>${esc(t('owner.phone'))}<input id="phone" type="tel" inputmode="numeric" autocomplete="tel"></label>
      <button type="button" id="send">${esc(t('owner.sendCode'))}</button>
      <label>${esc(t('owner.code'))}<input id="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="6"></label>
      <button type="button" id="signin">${esc(t('owner.signIn'))}</button>
      <p id="msg" class="hint" role="status"></p>
    </section>`;
  const msg = view.querySelector('#msg');
  const phone = () => view.querySelector('#phone').value.trim();
  view.querySelector('#send').addEventListener('click', async () => {
    try {
      await api.sendCode(link, phone());
      msg.textContent = t('owner.codeSent');
    } catch (error) {
      msg.textContent = problemText(error);
    }
  });
  view.querySelector('#signin').addEventListener('click', async () => {
    try {
      await api.signIn(link, phone(), view.querySelector('#code').value.trim());
      await render();
    } catch (error) {
      msg.textContent = problemText(error);
    }
  });
}

function windowText(w) {
  if (!w) return '';
  return w.from ? `${formatDateTime(w.from)} – ${formatDateTime(w.to)}` : t('owner.by', { time: formatDateTime(w.to) });
}

function scoreSelect(name, max, min = 1) {
  const options = [];
  for (let n = max; n >= min; n -= 1) options.push(`<option value="${n}">${n}</option>`);
  return `<label>${esc(t(`owner.rate.${name}`))}<select name="${name}">${options.join('')}</select></label>`;
}

function caseCard(c) {
  const tech = c.technician
    ? `<p data-field="technician">${esc(t('owner.technician', { name: c.technician.name, badge: c.technician.badge }))}</p>`
    : '';
  const arrival = c.arrivalWindow ? `<p data-field="arrival">${esc(t('owner.arrival'))}: ${esc(windowText(c.arrivalWindow))}</p>` : '';
  const done = c.completedAt
    ? `<p data-field="done">${esc(t('owner.completedAt', { time: formatDateTime(c.completedAt) }))}${c.workDone ? ` · ${esc(c.workDone)}` : ''}</p>`
    : '';
  const rating = c.rating
    ? `<p data-field="rating">${esc(t('owner.rated', { score: c.rating.satisfaction, recommend: c.rating.recommend ?? '-' }))}</p>`
    : '';
  const confirmed = c.confirmedAt
    ? `<p data-field="confirmed">${esc(t('owner.confirmed', { time: formatDateTime(c.confirmedAt) }))}</p>`
    : '';
  const confirm = c.canConfirm
    ? `<button type="button" class="secondary" data-confirm="${esc(c.id)}">${esc(t('owner.confirm'))}</button>`
    : '';
  const rateForm = c.canRate
    ? `<form class="rate" data-id="${esc(c.id)}">
         <h3>${esc(t('owner.rateTitle'))}</h3>
         ${scoreSelect('satisfaction', 5)}${scoreSelect('speed', 5)}${scoreSelect('attitude', 5)}${scoreSelect('quality', 5)}
         ${scoreSelect('recommend', 10, 0)}
         <button type="submit">${esc(t('owner.rateSend'))}</button>
       </form>`
    : '';
  return `<li class="card" data-case="${esc(c.id)}">
      <div class="row"><strong>${esc(c.number)}</strong>
        <span class="badge" data-field="status">${esc(label('status', c.status))}</span></div>
      <p>${esc(label('category', c.category))} · ${esc(c.description)}</p>
      ${c.photos ? `<p data-field="photos">${esc(t('owner.photos', { n: c.photos }))}</p>` : ''}
      ${tech}${arrival}${done}${confirmed}${confirm}${rating}${rateForm}
      <a class="button secondary thread-link" href="#case/${esc(c.id)}" data-thread="${esc(c.id)}">${esc(t('owner.thread.open'))}</a>
    </li>`;
}

function feedbackCard(f) {
  const answer = f.answered
    ? `<p data-field="answer">${esc(t('owner.feedback.answer', { time: formatDateTime(f.answeredAt) }))}${f.answer ? ` ${esc(f.answer)}` : ''}</p>`
    : `<p class="hint" data-field="waiting">${esc(t('owner.feedback.waiting'))}</p>`;
  return `<li class="card" data-feedback="${esc(f.id)}">
      <div class="row"><strong>${esc(t(`owner.feedback.kind.${f.kind}`))}</strong>
        <span class="hint">${esc(formatDateTime(f.createdAt))}</span></div>
      <p data-field="text">${esc(f.text)}</p>
      ${answer}
    </li>`;
}

function feedbackSection(items) {
  const kinds = ['suggestion', 'praise']
    .map(
      (kind, i) => `<label class="choice"><input type="radio" name="kind" value="${kind}"${i === 0 ? ' checked' : ''}>
        <span>${esc(t(`owner.feedback.kind.${kind}`))}</span></label>`,
    )
    .join('');
  return `
    <section class="card" id="feedback-section">
      <h2>${esc(t('owner.feedback.title'))}</h2>
      <form id="feedback">
        <fieldset class="kinds"><legend>${esc(t('owner.feedback.kindLabel'))}</legend>${kinds}</fieldset>
        <label>${esc(t('owner.feedback.text'))}<textarea name="text" rows="3" maxlength="2000" required></textarea></label>
        <button type="submit">${esc(t('owner.feedback.send'))}</button>
        <p id="feedback-msg" class="hint" role="status"></p>
      </form>
    </section>
    <h2>${esc(t('owner.feedback.mine'))}</h2>
    <ul class="cases plain feedback">${items.map(feedbackCard).join('') || `<li class="hint">${esc(t('owner.feedback.none'))}</li>`}</ul>`;
}

// One key per text being sent: a retry after a failed answer files it once.
let pendingFeedback = null;

async function renderHome() {
  const cats = (choices().categories || {}).repair || [];
  const [list, feedback] = await Promise.all([api.listCases(), api.listFeedback()]);
  view.innerHTML = `
    <section class="card">
      <h2>${esc(t('owner.reportTitle'))}</h2>
      <form id="report">
        <label>${esc(t('owner.category'))}<select name="category">${cats
          .map((c) => `<option value="${esc(c)}">${esc(label('category', c))}</option>`)
          .join('')}</select></label>
        <label>${esc(t('owner.description'))}<textarea name="description" rows="3" required></textarea></label>
        <label>${esc(t('owner.preferredAt'))}<input name="preferredAt" type="datetime-local"></label>
        <label>${esc(t('owner.photo'))}<input name="photo" type="file" accept="image/jpeg,image/png,image/webp" capture="environment"></label>
        <button type="submit">${esc(t('owner.reportSend'))}</button>
        <p id="msg" class="hint" role="status"></p>
      </form>
    </section>
    <h2>${esc(t('owner.myCases'))}</h2>
    <ul class="cases plain">${list.items.map(caseCard).join('') || `<li class="hint">${esc(t('owner.noCases'))}</li>`}</ul>
    ${feedbackSection(feedback.items)}`;
  view.querySelector('#report').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const preferred = form.get('preferredAt');
    try {
      const created = await api.report({
        kind: 'repair',
        category: form.get('category'),
        description: String(form.get('description') || '').trim(),
        preferredAt: preferred ? new Date(preferred).toISOString() : null,
      });
      const photo = form.get('photo');
      if (photo && photo.size) await api.addPhoto(created.id, photo);
      await renderHome();
      view.querySelector('#msg').textContent = t('owner.reported');
    } catch (error) {
      view.querySelector('#msg').textContent = problemText(error);
    }
  });
  view.querySelector('#feedback').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = { kind: String(form.get('kind')), text: String(form.get('text') || '').trim() };
    const same = pendingFeedback && pendingFeedback.kind === body.kind && pendingFeedback.text === body.text;
    if (!same) pendingFeedback = { ...body, key: api.requestKey() };
    const button = event.target.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      await api.fileFeedback(body, pendingFeedback.key);
      pendingFeedback = null;
      await renderHome();
      const msg = view.querySelector('#feedback-msg');
      msg.textContent = t('owner.feedback.received');
      msg.scrollIntoView({ block: 'center' });
    } catch (error) {
      button.disabled = false;
      view.querySelector('#feedback-msg').textContent = problemText(error);
    }
  });
  for (const button of view.querySelectorAll('[data-confirm]')) {
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await api.confirmDone(button.dataset.confirm);
        await renderHome();
      } catch (error) {
        button.disabled = false;
        button.insertAdjacentHTML('afterend', `<p class="hint">${esc(problemText(error))}</p>`);
      }
    });
  }
  for (const form of view.querySelectorAll('form.rate')) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const answers = {};
      for (const name of ['satisfaction', 'speed', 'attitude', 'quality', 'recommend']) answers[name] = Number(data.get(name));
      try {
        await api.rate(form.dataset.id, answers);
        await renderHome();
      } catch (error) {
        form.insertAdjacentHTML('beforeend', `<p class="hint">${esc(problemText(error))}</p>`);
      }
    });
  }
}

function staffName(staff) {
  if (!staff || !staff.role) return t('owner.thread.office');
  return `${label('role', staff.role)} ${staff.name || ''}`.trim();
}

function threadItem(m) {
  const who = m.from === 'owner' ? t('owner.thread.you') : staffName(m.staff);
  return `<li class="msg ${m.from === 'owner' ? 'mine' : 'staff'}" data-from="${esc(m.from)}">
      <div class="hint">${esc(who)} · ${esc(formatDateTime(m.at))}</div>
      <p data-field="text">${esc(m.text)}</p>
    </li>`;
}

// One key per message being sent: a retry after a failed answer keeps it once.
let pendingMessage = null;

/** One case's conversation with the office: the owner's messages and the staff's replies, and a box. */
async function renderThread(id) {
  const thread = await api.caseThread(id);
  setSiteTimeZone(thread.timeZone);
  view.innerHTML = `
    <a class="button secondary back" href="#" id="back">${esc(t('owner.thread.back'))}</a>
    <section class="card" id="thread-section">
      <div class="row"><h2>${esc(t('owner.thread.title', { number: thread.number }))}</h2>
        <span class="badge" data-field="status">${esc(label('status', thread.status))}</span></div>
      <ul class="plain thread">${thread.items.map(threadItem).join('') || `<li class="hint">${esc(t('owner.thread.none'))}</li>`}</ul>
      <form id="message">
        <label>${esc(t('owner.thread.label'))}<textarea name="text" rows="3" maxlength="${thread.maxLength}" required></textarea></label>
        <p class="hint">${esc(t('owner.thread.hint', { max: thread.maxLength }))}</p>
        <button type="submit">${esc(t('owner.thread.send'))}</button>
        <p id="thread-msg" class="hint" role="status"></p>
      </form>
    </section>`;
  view.querySelector('#message').addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = String(new FormData(event.target).get('text') || '').trim();
    if (!text) return;
    if (!pendingMessage || pendingMessage.id !== id || pendingMessage.text !== text) pendingMessage = { id, text, key: api.requestKey() };
    const button = event.target.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      await api.writeMessage(id, text, pendingMessage.key);
      pendingMessage = null;
      await renderThread(id);
      const msg = view.querySelector('#thread-msg');
      msg.textContent = t('owner.thread.sent');
      msg.scrollIntoView({ block: 'center' });
    } catch (error) {
      button.disabled = false;
      view.querySelector('#thread-msg').textContent = problemText(error);
    }
  });
}

function caseInHash() {
  const match = location.hash.match(/^#case\/([0-9a-f-]{36})$/);
  return match ? match[1] : null;
}

async function render() {
  const link = unitLink();
  document.getElementById('signout').hidden = !api.ownerToken();
  document.getElementById('lang').textContent = currentLocale() === 'en' ? '中文' : 'English';
  translateTree(document);
  if (!api.ownerToken()) return renderSignIn(link);
  const caseId = caseInHash();
  try {
    return await (caseId ? renderThread(caseId) : renderHome());
  } catch (error) {
    if (error.status === 401) return renderSignIn(link);
    const back = caseId ? `<a class="button secondary back" href="#">${esc(t('owner.thread.back'))}</a>` : '';
    view.innerHTML = `${back}<section class="card error"><p>${esc(problemText(error))}</p></section>`;
  }
}

document.getElementById('lang').addEventListener('click', async () => {
  await setLocale(currentLocale() === 'en' ? 'zh-CN' : 'en');
  await render();
});
document.getElementById('signout').addEventListener('click', async () => {
  api.signOut();
  await render();
});
window.addEventListener('hashchange', render);

await initI18n();
await render();
