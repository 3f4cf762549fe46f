/**
 * Message catalogues: zh-CN by default, English by a switch remembered on this device.
 *
 * Every visible string comes from i18n/<locale>.json through t(). A key missing from the catalogue is shown
 * as the key itself and recorded in window.__i18nMissing so tests can catch it.
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

async function loadLocale(next) {
  const response = await fetch(`/i18n/${next}.json`);
  messages = await response.json();
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
