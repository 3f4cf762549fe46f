/** The dashboard's numbers in the interface's language (Intl): rates, counts, durations, days. */

import { currentLocale } from '../../i18n.js';

/** A rate 0–1 as a percentage, "—" when there is nothing to rate. */
export function percent(rate) {
  if (rate === null || rate === undefined) return '—';
  return new Intl.NumberFormat(currentLocale(), { style: 'percent', maximumFractionDigits: 1 }).format(rate);
}

export function number(value, digits = 0) {
  if (value === null || value === undefined) return '—';
  return new Intl.NumberFormat(currentLocale(), { maximumFractionDigits: digits }).format(value);
}

function unit(value, name, digits) {
  return new Intl.NumberFormat(currentLocale(), {
    style: 'unit',
    unit: name,
    unitDisplay: 'short',
    maximumFractionDigits: digits,
  }).format(value);
}

/** Minutes in the unit a person reads at a glance: minutes up to 1.5 h, hours up to 2 days, then days. */
export function duration(minutes) {
  if (minutes === null || minutes === undefined) return '—';
  if (minutes < 90) return unit(minutes, 'minute', minutes < 10 ? 1 : 0);
  if (minutes < 48 * 60) return unit(minutes / 60, 'hour', 1);
  return unit(minutes / 1440, 'day', 1);
}

export function seconds(value) {
  if (value === null || value === undefined) return '—';
  return value < 120 ? unit(value, 'second', 1) : duration(value / 60);
}

export function dayLabel(isoDay) {
  const [y, m, d] = isoDay.split('-').map(Number);
  return new Intl.DateTimeFormat(currentLocale(), { timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric' }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

/** A signed rate of change: +100%, −50%. */
export function percentSigned(rate) {
  return new Intl.NumberFormat(currentLocale(), { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(rate);
}
