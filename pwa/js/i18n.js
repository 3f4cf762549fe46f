/**
 * Message catalogues: zh-CN by default, English by a switch remembered on this device.
 *
 * Every visible string comes through t(): the interface's own words from i18n/<locale>.json, and the labels
 * of every code the server sends (statuses, kinds, actions, categories, alarms, refusals …) from the
 * server's one catalogue, GET /api/v1/catalogue, which the service worker keeps for offline starts. A key
 * missing from both is shown as the key itself and recorded in window.__i18nMissing so tests can catch it.
 */

export const LOCALES = ['zh-CN', 'en'];
const STORAGE_KEY = 'caretaker.locale';

let locale = 'zh-CN';
let messages = {};
window.__i18nMissing = window.__i18nMissing || [];

/** The locale in use. */
export function currentLocale() {
  return locale;
}

/** Load the remembered (or default) catalogue. */
export async function initI18n() {
  const saved = localStorage.getItem(STORAGE_KEY);
  await loadLocale(LOCALES.includes(saved) ? saved : 'zh-CN');
}

/** Switch language and remember it on this device. */
export async function setLocale(next) {
  localStorage.setItem(STORAGE_KEY, next);
  await loadLocale(next);
}

let server = null;

async function fetchServerCatalogue() {
  if (server) return server;
  try {
    const response = await fetch('/api/v1/catalogue', { headers: { Accept: 'application/json' } });
    if (response.ok) server = await response.json();
  } catch {
    // Offline on a first start: codes show as themselves until the catalogue can be read.
  }
  return server || { labels: {}, choices: {} };
}

/**
 * The codes each form may offer, as the server accepts them: {categories: {repair: [...], ...},
 * deskChannels, priorities, contactVia, escalationReasons, noSignReasons, relations, stages}.
 */
export function choices() {
  return (server && server.choices) || {};
}

async function loadLocale(next) {
  const [response, catalogue] = await Promise.all([fetch(`/i18n/${next}.json`), fetchServerCatalogue()]);
  messages = { ...((catalogue.labels || {})[next] || {}), ...(await response.json()) };
  locale = next;
  document.documentElement.lang = next;
}

/** The message for a key, with {name} placeholders filled in. */
export function t(key, params = {}) {
  let text = messages[key];
  if (text === undefined) {
    if (!window.__i18nMissing.includes(key)) window.__i18nMissing.push(key);
    return key;
  }
  for (const [name, value] of Object.entries(params)) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}

/** A catalogue entry if present (for server codes such as statuses and categories), else the fallback. */
export function tOr(key, fallback) {
  return messages[key] !== undefined ? messages[key] : fallback;
}

/** The label of a code the server sends, e.g. label('status', 'on_site'); the code itself if unknown. */
export function label(group, code) {
  return tOr(`${group}.${code}`, code ?? '');
}

/**
 * What a refusal says in the user's language: the server's stable `code` (and the `field` it names) looked
 * up in the catalogue; the server's own English detail only when the catalogue has no word for it.
 */
export function refusal(problem) {
  if (!problem) return '';
  const byField = problem.field && messages[`error.${problem.code}.${problem.field}`];
  return byField || messages[`error.${problem.code}`] || problem.detail || problem.title || '';
}

/** Fill every [data-i18n] element (text) and [data-i18n-attr="attr:key"] attribute under root. */
export function translateTree(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      el.setAttribute(attr, t(key));
    }
  }
}
