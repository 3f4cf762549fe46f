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

/** The wall-clock parts of an instant in the site's zone. */
function zoneParts(ms) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: siteTimeZone(),
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute') };
}

/** An instant as a date-time field's value ("2026-03-05T14:30"), written in the site's zone. */
export function toSiteInput(iso) {
  if (!iso) return '';
  const p = zoneParts(new Date(iso).getTime());
  const pad = (n) => String(n).padStart(2, '0');
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
}

/** A date-time field's value, read as a wall-clock time in the site's zone, as an ISO instant ('' if empty). */
export function fromSiteInput(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || '');
  if (!m) return '';
  const wanted = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  // Guess, see what the zone's clock shows then, and correct by the difference (twice covers a DST edge).
  let guess = wanted;
  for (let i = 0; i < 2; i += 1) {
    const p = zoneParts(guess);
    guess += wanted - Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
  }
  return new Date(guess).toISOString();
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
