/** Dates, times and countdowns in the site's time zone and the user's language; safe HTML building. */

import { currentLocale, t } from './i18n.js';

// The site's zone comes from the server (GET /me: timeZone); until it is known, the phone's own.
let siteZone = null;

/** Use the time zone the server says the user's site keeps (null: the phone's own). */
export function setSiteTimeZone(zone) {
  siteZone = zone || null;
}

/** The time zone every date and time on screen is shown in. */
export function siteTimeZone() {
  return siteZone || Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Date and time in the site's zone, e.g. 11/23 18:02. */
export function formatDateTime(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat(currentLocale(), {
    timeZone: siteTimeZone(),
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(new Date(iso));
}

/** Time of day in the site's zone. */
export function formatTime(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat(currentLocale(), {
    timeZone: siteTimeZone(),
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  }).format(new Date(iso));
}

const HOUR_MS = 3600000;
const DAY_MS = 24 * HOUR_MS;

/** A span of time as every screen writes it: m:ss under an hour, h:mm:ss under a day, then days and hours. */
export function span(ms) {
  const abs = Math.abs(ms);
  const pad = (n) => String(n).padStart(2, '0');
  if (abs >= DAY_MS) return t('time.daysHours', { days: Math.floor(abs / DAY_MS), hours: Math.floor((abs % DAY_MS) / HOUR_MS) });
  const h = Math.floor(abs / HOUR_MS);
  const m = Math.floor((abs % HOUR_MS) / 60000);
  const s = Math.floor((abs % 60000) / 1000);
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

/** "剩余 12:04" or "逾期 3:10" until a deadline: the one countdown format of every screen. */
export function countdown(iso, now = Date.now()) {
  const ms = new Date(iso).getTime() - now;
  const text = span(ms);
  return { overdue: ms < 0, text: ms < 0 ? t('time.overdue', { time: text }) : t('time.left', { time: text }) };
}

/** Escape text for interpolation into HTML. */
export function esc(value) {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
