/**
 * The assign control shared by intake and the dispatch board: the server's suggestions first, each with its
 * reasons (skill, working in the same building now, open jobs), ★ only where the skill fits, then the other
 * technicians, and the appointment agreed with the owner (on the site's clock); the dispatch is confirmed
 * before it is sent. Whom a complaint is about is never offered.
 */

import { listUsers, suggestions, workOrderAction } from '../api.js';
import { esc, formatDateTime, fromSiteInput, siteTimeZone, toSiteInput } from '../format.js';
import { label, refusal, t } from '../i18n.js';

const technicianCache = new Map();

async function technicians(site) {
  if (!technicianCache.has(site)) technicianCache.set(site, await listUsers({ role: 'technician', site }).catch(() => []));
  return technicianCache.get(site);
}

/** One reason in words: "对口专业：水", "正在本楼作业", "在办 2 单". */
function reasonText(reason) {
  const words = t(`suggestion.${reason.code}`, { count: reason.count ?? '' });
  return reason.skill ? t('dispatch.reasonSkill', { reason: words, skill: label('category', reason.skill) }) : words;
}

/** Why the server suggests this technician, in one line. */
export function reasonsText(suggestion) {
  return (suggestion.reasons || []).map(reasonText).join(' · ');
}

/** What the stars mean, or that nobody on duty has the skill (a complaint needs none: nothing to say). */
function footnote(ranked) {
  const codes = ranked.flatMap((s) => (s.reasons || []).map((r) => r.code));
  if (codes.includes('skilled')) return `<p class="muted small">${esc(t('dispatch.suggestedSkilled'))}</p>`;
  if (codes.includes('not_skilled')) return `<p class="muted small">${esc(t('dispatch.noSkilled'))}</p>`;
  return '';
}

/**
 * Fill `box` with a technician picker for `job` ({id, complainedAboutId}) and an assign button that asks for
 * confirmation; `done(result, assignee)` after the server answered (or the action was queued).
 */
export async function renderAssign(box, job, site, done) {
  const [people, ranked] = await Promise.all([technicians(site), suggestions(job.id).catch(() => [])]);
  const byId = new Map(ranked.map((s) => [s.userId, s]));
  const others = people.filter((p) => !byId.has(p.id) && p.id !== job.complainedAboutId);
  const options = [
    ...ranked.map((s) => ({ id: s.userId, name: s.displayName, suggestion: s })),
    ...others.map((p) => ({ id: p.id, name: p.displayName || p.username, suggestion: null })),
  ];
  // Short enough for a phone's picker; the full reasons of the one chosen are spelled out below it.
  const optionText = (o) => {
    if (!o.suggestion) return `${o.name} · ${t('dispatch.offDuty')}`;
    const mark = o.suggestion.skilled ? '★ ' : '';
    const here = o.suggestion.nearby ? ` · ${t('suggestion.nearby')}` : '';
    return `${mark}${o.name}${here} · ${t('suggestion.open_jobs', { count: o.suggestion.openJobs })}`;
  };
  box.innerHTML = `<div class="assign">
      <label class="small">${esc(t('dispatch.technician'))}
        <select data-assignee>${options.map((o) => `<option value="${esc(o.id)}">${esc(optionText(o))}</option>`).join('')}</select></label>
      <p class="muted small" data-why aria-live="polite"></p>
      ${job.kind && job.kind !== 'complaint' ? `<label class="small" for="appointment-${esc(job.id)}">${esc(t('appointment.agreed'))}</label>
        <input id="appointment-${esc(job.id)}" type="datetime-local" data-appointment value="${esc(toSiteInput(job.appointmentAt))}">
        <p class="muted small">${esc(t('appointment.siteZone', { zone: siteTimeZone() }))}</p>` : ''}
      <div class="actions"><button type="button" data-assign ${options.length ? '' : 'disabled'}>${esc(t('action.assign'))}</button></div>
      <div class="confirm-assign" data-confirm hidden>
        <p data-confirm-text></p>
        <div class="row"><button type="button" data-confirm-assign>${esc(t('dispatch.confirm'))}</button>
          <button type="button" class="secondary" data-cancel-assign>${esc(t('dispatch.back'))}</button></div>
      </div>
      <p class="form-error" data-assign-error role="alert" hidden></p>
      ${footnote(ranked)}
    </div>`;
  const select = box.querySelector('[data-assignee]');
  const chosen = () => options.find((o) => o.id === select.value);
  const explain = () => {
    const o = chosen();
    box.querySelector('[data-why]').textContent = o ? t('dispatch.why', { name: o.name, reasons: o.suggestion ? reasonsText(o.suggestion) : t('dispatch.offDuty') }) : '';
  };
  select.addEventListener('change', explain);
  explain();
  const confirmBox = box.querySelector('[data-confirm]');
  box.querySelector('[data-assign]').addEventListener('click', () => {
    const appointment = box.querySelector('[data-appointment]');
    const when = appointment && appointment.value ? ` ${t('appointment.confirm', { time: formatDateTime(fromSiteInput(appointment.value)) })}` : '';
    box.querySelector('[data-confirm-text]').textContent = t('dispatch.confirmText', { name: chosen().name }) + when;
    confirmBox.hidden = false;
    box.querySelector('[data-assign]').hidden = true;
    box.querySelector('[data-confirm-assign]').focus();
  });
  box.querySelector('[data-cancel-assign]').addEventListener('click', () => {
    confirmBox.hidden = true;
    box.querySelector('[data-assign]').hidden = false;
  });
  box.querySelector('[data-confirm-assign]').addEventListener('click', async (event) => {
    event.target.disabled = true;
    const assignee = chosen();
    const fields = { assigneeId: assignee.id };
    // The appointment agreed with the owner, on the site's clock; sent only when set or changed here.
    const appointment = box.querySelector('[data-appointment]');
    if (appointment && appointment.value && appointment.value !== toSiteInput(job.appointmentAt)) fields.appointmentAt = fromSiteInput(appointment.value);
    const result = await workOrderAction(job.id, 'assign', fields);
    if (result.state === 'conflict') {
      const error = box.querySelector('[data-assign-error]');
      error.textContent = refusal(result.conflict);
      error.hidden = false;
      event.target.disabled = false;
    } else confirmBox.hidden = true;
    done(result, assignee);
  });
}
