/** The dashboard's period: whole site-local days, presets of the last N days, and the remembered choice. */

import { siteTimeZone } from '../../format.js';

// The choice survives a trip to a job and back (per tab, like the rest of the session's navigation).
const STORAGE_KEY = 'caretaker.dashboard';
export const PRESET_DAYS = [7, 30, 90];
const DEFAULT_DAYS = 30;

/** Today's date (YYYY-MM-DD) in a time zone. */
export function todayIn(timeZone) {
  // en-CA formats dates as ISO YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}

export function addDays(isoDay, days) {
  const [y, m, d] = isoDay.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

export function daysBetween(fromDay, toDay) {
  return Math.round((Date.parse(`${toDay}T00:00:00Z`) - Date.parse(`${fromDay}T00:00:00Z`)) / 86400000);
}

/** from/to of a choice: the last N days up to today at the site, or the custom dates as given. */
export function periodOf(choice, site) {
  if (choice.preset === 'custom') return { from: choice.from, to: choice.to };
  const to = todayIn((site && site.timezone) || siteTimeZone());
  return { from: addDays(to, 1 - choice.preset), to };
}

export function savedChoice(sites) {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');
    if (saved && sites.some((s) => s.id === saved.site)) return saved;
  } catch {
    // A damaged entry is simply forgotten.
  }
  return { site: sites[0].id, preset: DEFAULT_DAYS, from: '', to: '' };
}

/** Remember the choice for this tab. */
export function rememberChoice(choice) {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(choice));
}
