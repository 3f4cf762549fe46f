/**
 * The app shell: router (views loaded by name), role-based home screen, offline banner with the number of
 * queued actions, conflicts the server refused, the language switch and the service worker.
 */

import { currentToken, logout, me, ownersWaiting } from './api.js';
import { forgetJobs } from './device.js';
import { currentLocale, initI18n, LOCALES, setLocale, t, translateTree } from './i18n.js';
import { dismissConflict, listConflicts, onOutboxMessage, pendingCount, replay } from './outbox.js';
import { esc, setSiteTimeZone } from './format.js';
import { followAssignments } from './job_alerts.js';

// Route name → view module under js/views/. Adding a screen is one line here.
const VIEWS = {
  login: 'login',
  jobs: 'jobs',
  job: 'job',
  complaint: 'complaint',
  receipt: 'receipt',
  alarms: 'guard',
  intake: 'intake',
  dispatch: 'dispatch',
  callbacks: 'callbacks',
  dashboard: 'dashboard',
  rounds: 'rounds',
  hazards: 'hazards',
  escalated: 'escalated',
  feedback: 'feedback',
  ownerMessages: 'owner_messages',
  ownerLinks: 'unit_links',
  outages: 'outages',
  safetyCheck: 'safety_check',
  safety: 'safety',
  plans: 'plans',
};

// What each role sees first and in its navigation, most used first. At most BAR_SIZE tabs stand in the bar;
// the rest wait under "更多 / More" (a list of big targets), so the bar keeps one row at phone width.
const ROLE_NAV = {
  technician: ['jobs', 'hazards'],
  guard: ['alarms', 'rounds', 'hazards'],
  agent: ['intake', 'dispatch', 'callbacks', 'feedback', 'ownerMessages'],
  supervisor: ['dispatch', 'escalated', 'alarms', 'hazards', 'intake', 'callbacks', 'feedback', 'dashboard', 'rounds', 'safetyCheck', 'safety', 'ownerMessages', 'outages', 'plans'],
  manager: ['dashboard', 'escalated', 'dispatch', 'hazards', 'feedback', 'alarms', 'rounds', 'safetyCheck', 'safety', 'ownerMessages', 'ownerLinks', 'outages', 'plans'],
  admin: ['dashboard', 'dispatch', 'alarms', 'intake', 'ownerMessages', 'ownerLinks', 'outages'],
};
// A role with up to BAR_SIZE + 1 tabs has them all in the bar (the last would only swap with "More").
const BAR_SIZE = 4;

/**
 * The tabs in the bar and those under More. The screen on view always stands in the bar: picked from More, it
 * takes the bar's last place for as long as it is on view.
 */
function splitNav(tabs, current) {
  if (tabs.length <= BAR_SIZE + 1) return { bar: tabs, more: [] };
  const bar = tabs.slice(0, BAR_SIZE);
  if (tabs.includes(current) && !bar.includes(current)) bar[BAR_SIZE - 1] = current;
  return { bar, more: tabs.filter((name) => !bar.includes(name)) };
}

const state = { user: null, view: null, route: null, queued: 0, offline: !navigator.onLine };
// A busy or restarting server (5xx, 429) leaves actions queued; try again this often while any wait.
const RETRY_INTERVAL_MS = 10000;
const main = document.getElementById('view');
// view module → its drawing still in progress
const drawing = new Map();

/** Shared with views: the signed-in user and a way to navigate and refresh shell chrome. */
export const ctx = {
  get user() {
    return state.user;
  },
  go(path) {
    if (location.hash === `#${path}`) route();
    else location.hash = path;
  },
  refreshBanner: () => refreshBanner(),
  refreshConflicts: () => refreshConflicts(),
  setUser(user) {
    state.user = user;
    renderNav();
  },
};

function parseHash() {
  const [name, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  return { name: name || '', params: rest.map(decodeURIComponent) };
}

function homeFor(user) {
  return (ROLE_NAV[user.role] || ['jobs'])[0];
}

async function route() {
  let { name, params } = parseHash();
  if (!state.user && name !== 'login') {
    name = 'login';
    params = [];
  }
  if (!VIEWS[name]) name = state.user ? homeFor(state.user) : 'login';
  if (state.view && state.view.unmount) state.view.unmount();
  const current = { name, params };
  state.route = current;
  renderNav();
  refreshCounts();
  // Each route draws into a root of its own: a slower, superseded render then fills a detached element
  // instead of overwriting the screen the user has moved on to.
  const root = document.createElement('div');
  root.className = 'view-root';
  main.replaceChildren(root);
  let module;
  try {
    module = await import(`./views/${VIEWS[name]}.js`);
    // The user moved on while the module loaded: the newer route draws, this one must not.
    if (state.route !== current) return;
  } catch {
    root.innerHTML = `<section class="card"><h2>${esc(t(`nav.${name}`))}</h2><p>${esc(t('app.viewUnavailable'))}</p></section>`;
    state.view = null;
    return;
  }
  // The same screen drawn again (a language switch, a refresh) waits for its earlier drawing: a view keeps
  // its timers and streams in module state, which two drawings at once would tangle.
  const earlier = drawing.get(module);
  if (earlier) {
    await earlier;
    if (state.route !== current) return;
  }
  state.view = module;
  const draw = (async () => {
    try {
      await module.render(root, params, ctx);
    } catch (error) {
      root.innerHTML = `<section class="card error"><p>${esc(t('app.loadFailed'))}</p><p>${esc(error.message)}</p></section>`;
    }
    // Superseded while drawing: its screen is gone, and so must be the timers and streams it started.
    if (!root.isConnected && module.unmount) module.unmount();
  })();
  drawing.set(module, draw);
  await draw;
  if (drawing.get(module) === draw) drawing.delete(module);
}

function renderNav() {
  const nav = document.getElementById('nav');
  const logoutButton = document.getElementById('logout');
  if (!state.user) {
    nav.innerHTML = '';
    nav.hidden = true;
    logoutButton.hidden = true;
    document.getElementById('who').textContent = '';
    return;
  }
  nav.hidden = false;
  logoutButton.hidden = false;
  document.getElementById('who').textContent = `${state.user.displayName} · ${t(`role.${state.user.role}`)}`;
  const current = state.route ? state.route.name : '';
  const { bar, more } = splitNav(ROLE_NAV[state.user.role] || ['jobs'], current);
  const badge = (name) => `<span class="nav-count" data-nav-count="${name}" hidden></span>`;
  const tab = (name) =>
    `<a href="#/${name}" class="${name === current ? 'active' : ''}" data-nav="${name}" ${name === current ? 'aria-current="page"' : ''}>${esc(t(`nav.${name}`))}${COUNTS[name] ? badge(name) : ''}</a>`;
  nav.innerHTML = `<div class="nav-bar">${bar.map(tab).join('')}${
    more.length ? `<button type="button" id="nav-more" class="nav-more-button" aria-expanded="false" aria-controls="nav-more-list">${esc(t('nav.more'))}${badge('more')}</button>` : ''
  }</div>${more.length ? `<div id="nav-more-list" class="nav-more" hidden>${more.map(tab).join('')}</div>` : ''}`;
  paintCounts(more);
  const moreButton = nav.querySelector('#nav-more');
  if (moreButton) {
    moreButton.addEventListener('click', () => showMore(moreButton.getAttribute('aria-expanded') !== 'true'));
    // a tab picked from the list: the route redraws the nav, closed; the current one only closes it
    nav.querySelector('#nav-more-list').addEventListener('click', () => showMore(false));
  }
}

// A tab's count of what waits there (owners waiting for an answer), read on every route and every minute.
const COUNTS = {
  ownerMessages: { read: () => ownersWaiting({ limit: 1 }).then((page) => page.total), label: 'nav.ownersWaiting' },
};
const COUNT_INTERVAL_MS = 60000;
// tab → its last count, for the user signed in (forgotten at log out)
let counted = {};

async function refreshCounts() {
  const user = state.user;
  if (!user) return;
  const tabs = ROLE_NAV[user.role] || [];
  await Promise.all(
    Object.entries(COUNTS)
      .filter(([name]) => tabs.includes(name))
      // offline or refused: the last count stays
      .map(([name, { read }]) => read().then((n) => { if (state.user === user) counted[name] = n; }, () => {})),
  );
  paintCounts();
}

/** Show each count on its tab, and their sum on "更多 / More" when those tabs are inside it. */
function paintCounts(more = null) {
  const hidden = more || [...document.querySelectorAll('#nav-more-list [data-nav]')].map((a) => a.dataset.nav);
  let inside = 0;
  for (const el of document.querySelectorAll('[data-nav-count]')) {
    const name = el.dataset.navCount;
    if (name === 'more') continue;
    const n = counted[name] || 0;
    el.textContent = n > 99 ? '99+' : String(n);
    el.setAttribute('aria-label', t(COUNTS[name].label, { count: n }));
    el.hidden = n === 0;
    if (hidden.includes(name)) inside += n;
  }
  const onMore = document.querySelector("[data-nav-count='more']");
  if (onMore) {
    onMore.textContent = inside > 99 ? '99+' : String(inside);
    onMore.hidden = inside === 0;
  }
}

function showMore(open) {
  const button = document.getElementById('nav-more');
  const list = document.getElementById('nav-more-list');
  if (!button || !list) return;
  button.setAttribute('aria-expanded', String(open));
  button.classList.toggle('open', open);
  list.hidden = !open;
}

async function refreshBanner() {
  state.queued = await pendingCount().catch(() => 0);
  const banner = document.getElementById('banner');
  const parts = [];
  if (state.offline) parts.push(t('banner.offline'));
  if (state.queued > 0) parts.push(t('banner.queued', { count: state.queued }));
  banner.textContent = parts.join(' · ');
  banner.hidden = parts.length === 0;
  banner.className = state.offline ? 'banner offline' : 'banner queued';
}

async function refreshConflicts() {
  const box = document.getElementById('conflicts');
  const conflicts = await listConflicts().catch(() => []);
  box.hidden = conflicts.length === 0;
  box.innerHTML = conflicts
    .map(
      (c) => `<div class="conflict" role="alert" data-conflict="${c.id}">
        <strong>${esc(t('conflict.title', { action: t(`action.${c.label}`) }))}</strong>
        <p class="conflict-detail">${esc(c.detail || t('conflict.noDetail'))}</p>
        <div class="row">${c.jobId ? `<a class="button secondary" href="#/job/${esc(c.jobId)}">${esc(t('conflict.open'))}</a>` : ''}
        <button type="button" class="secondary" data-dismiss="${c.id}">${esc(t('conflict.dismiss'))}</button></div>
      </div>`,
    )
    .join('');
  for (const button of box.querySelectorAll('[data-dismiss]')) {
    button.addEventListener('click', async () => {
      await dismissConflict(Number(button.dataset.dismiss));
      refreshConflicts();
    });
  }
}

function renderChrome() {
  translateTree(document.body);
  document.getElementById('lang').textContent = currentLocale() === 'zh-CN' ? 'English' : '中文';
  document.getElementById('lang').setAttribute('lang', currentLocale() === 'zh-CN' ? 'en' : 'zh-CN');
  renderNav();
  refreshBanner();
  refreshConflicts();
}

async function replayNow() {
  state.offline = !navigator.onLine;
  if (navigator.onLine) {
    const result = await replay().catch(() => ({ state: 'offline' }));
    if (result.state === 'auth') askToLogInAgain();
  }
  refreshBanner();
  refreshConflicts();
}

function askToLogInAgain() {
  if (state.route && state.route.name === 'login') return;
  state.user = null;
  followAssignments(null);
  sessionStorage.setItem('caretaker.returnTo', location.hash || '');
  location.hash = '/login/expired';
}

async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  try {
    await navigator.serviceWorker.register('/sw.js', { type: 'module', scope: '/' });
  } catch (error) {
    console.warn('service worker not registered', error);
  }
}

async function start() {
  await initI18n();
  document.getElementById('lang').addEventListener('click', async () => {
    const next = LOCALES.find((l) => l !== currentLocale());
    await setLocale(next);
    renderChrome();
    route();
  });
  document.getElementById('logout').addEventListener('click', async () => {
    // Close the view's live stream first: the server ends it when the session ends, and that must not
    // read as "signed out elsewhere".
    if (state.view && state.view.unmount) state.view.unmount();
    state.view = null;
    followAssignments(null);
    await logout();
    if ('caches' in window) await caches.delete('api-v1');
    await forgetJobs().catch(() => undefined);
    counted = {};
    state.user = null;
    location.hash = '/login';
  });
  window.addEventListener('hashchange', route);
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') showMore(false);
  });
  window.addEventListener('online', replayNow);
  window.addEventListener('offline', () => {
    state.offline = true;
    refreshBanner();
  });
  window.addEventListener('auth-required', askToLogInAgain);
  window.addEventListener('counts-changed', refreshCounts);
  onOutboxMessage((message) => {
    if (message.type === 'auth-required') askToLogInAgain();
    refreshBanner();
    if (message.type === 'conflict' || message.type === 'changed') refreshConflicts();
  });

  if (await currentToken()) {
    try {
      state.user = await me();
    } catch (error) {
      // Offline: trust the last known user so the cached job list still opens.
      if (error.status === 401) state.user = null;
      else state.user = JSON.parse(localStorage.getItem('caretaker.user') || 'null');
    }
  }
  if (state.user) localStorage.setItem('caretaker.user', JSON.stringify(state.user));
  setSiteTimeZone(state.user && state.user.timeZone);
  renderChrome();
  if (state.user) followAssignments(state.user);
  if (state.user && !parseHash().name) location.hash = `/${homeFor(state.user)}`;
  else await route();
  registerServiceWorker();
  replayNow();
  setInterval(async () => {
    if (navigator.onLine && (await pendingCount().catch(() => 0)) > 0) replayNow();
  }, RETRY_INTERVAL_MS);
  setInterval(refreshCounts, COUNT_INTERVAL_MS);
}

/** After a login: remember the user, replay what waited, go back where the user was or home. */
export async function afterLogin(user) {
  state.user = user;
  setSiteTimeZone(user.timeZone);
  localStorage.setItem('caretaker.user', JSON.stringify(user));
  renderNav();
  followAssignments(user);
  await replayNow();
  const returnTo = sessionStorage.getItem('caretaker.returnTo');
  sessionStorage.removeItem('caretaker.returnTo');
  location.hash = returnTo && !returnTo.includes('login') ? returnTo : `/${homeFor(user)}`;
}

start();
