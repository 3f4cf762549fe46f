/** Dates, times and countdowns in the site's time zone and the user's language; safe HTML building. */

import { currentLocale, t } from './i18n.js';

// Every demo site is in China; a site's own zone can replace this once /sites is read.
export const SITE_TIME_ZONE = 'Asia/Shanghai';

/** Date and time in the site's zone, e.g. 11/23 18:02. */
export function formatDateTime(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat(currentLocale(), {
    timeZone: SITE_TIME_ZONE,
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
    timeZone: SITE_TIME_ZONE,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  }).format(new Date(iso));
}

/** "12:04 left" or "overdue 3:10" until a deadline; h:mm:ss above an hour. */
export function countdown(iso, now = Date.now()) {
  const ms = new Date(iso).getTime() - now;
  const abs = Math.abs(ms);
  const h = Math.floor(abs / 3600000);
  const m = Math.floor((abs % 3600000) / 60000);
  const s = Math.floor((abs % 60000) / 1000);
  const pad = (n) => String(n).padStart(2, '0');
  const text = h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
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
