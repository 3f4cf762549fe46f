/**
 * The HTTP API as the PWA sees it: every endpoint path and wire field name lives here, nowhere else.
 *
 * Reads go straight to the network. A technician's list and every job read are kept on the device
 * (device.js) and read from there when the network is away; the service worker keeps other lists. Every mutation goes through the outbox with its Idempotency-Key and clientAt,
 * so it is sent exactly once whether the phone is online now or later.
 */

import { clearDevice, saveJob, savedJob, savedList, saveList } from './device.js';
import { enqueue, getToken, onOutboxMessage, pendingEntries, replay, setToken } from './outbox.js';

const BASE = '/api/v1';

/** An HTTP error with the server's problem details (RFC 9457). */
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

let tokenCache = null;

/** The current bearer token, if someone is logged in on this device. */
export async function currentToken() {
  if (tokenCache === null) tokenCache = (await getToken()) || '';
  return tokenCache;
}

// Set by the service worker on a response it answered from its cache because the network was away.
const OFFLINE_COPY_HEADER = 'X-Offline-Copy';

/** Thrown when the network is away (or the service worker could only offer an old copy). */
export class OfflineError extends Error {}

async function request(path, { method = 'GET', json, headers = {}, fresh = false } = {}) {
  const token = await currentToken();
  const init = { method, headers: { Accept: 'application/json', ...headers } };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(`${BASE}${path}`, init);
  } catch {
    throw new OfflineError('offline');
  }
  if (fresh && response.headers.get(OFFLINE_COPY_HEADER)) throw new OfflineError('offline');
  if (response.status === 204) return null;
  const isJson = (response.headers.get('content-type') || '').includes('json');
  const body = isJson ? await response.json() : await response.text();
  if (!response.ok) {
    if (response.status === 401 && path !== '/auth/login') window.dispatchEvent(new CustomEvent('auth-required'));
    throw new ApiError(response.status, isJson ? body : { detail: body });
  }
  return body;
}

function query(params) {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return entries.length ? `?${new URLSearchParams(entries)}` : '';
}

// ---- auth ----

const DEVICE_USER_KEY = 'caretaker.deviceUser';

/** Log in; remembers the token for the page and for the service worker's replays. */
export async function login(username, password) {
  const result = await request('/auth/login', { method: 'POST', json: { username, password } });
  tokenCache = result.token;
  await setToken(result.token);
  // Another person's jobs and drafts never stay on a phone handed over.
  if (localStorage.getItem(DEVICE_USER_KEY) !== result.user.id) {
    await clearDevice().catch(() => undefined);
    localStorage.setItem(DEVICE_USER_KEY, result.user.id);
  }
  return result.user;
}

/**
 * Log out: end this session on the server (its token stops working at once, everywhere), then forget the
 * token here. Offline, only the forgetting happens; the session ends at its expiry. Queued actions stay;
 * they are replayed after the next login.
 */
export async function logout() {
  const token = await currentToken();
  if (token && navigator.onLine) {
    try {
      // Plain fetch, not request(): a 401 here (already signed out) must not send the user to the login screen twice.
      await fetch(`${BASE}/auth/logout`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    } catch {
      // The network went away: the token is forgotten below all the same.
    }
  }
  tokenCache = '';
  await setToken(null);
}

/** The signed-in user: {id, username, displayName, role, siteIds, skills, onDuty, locale}. */
export function me() {
  return request('/me');
}

// ---- work orders ----

/** Work orders: filters {status, kind, assignee: 'me', site, overdue: true, escalated: true (complaints for management)}. */
export async function listWorkOrders(filters = {}) {
  const body = await request(`/work-orders${query(filters)}`);
  return body.items;
}

/**
 * One work order with events, clocks, photos, signature, callbacks, the checklist for its place, the history
 * of its unit and asset, and what the caller may do: `allowedActions`, `requirements`, `transitions`.
 * Every copy read is kept on the device; with no network the kept copy is returned, marked `offlineCopy`
 * with its `savedAt` (an OfflineError when there is none).
 */
export async function getWorkOrder(id) {
  try {
    const job = await request(`/work-orders/${id}`, { fresh: true });
    await saveJob(job).catch(() => undefined);
    return job;
  } catch (error) {
    if (!(error instanceof OfflineError)) throw error;
    const saved = await savedJob(id).catch(() => undefined);
    if (!saved) throw error;
    return { ...saved.job, offlineCopy: true, savedAt: saved.savedAt };
  }
}

// The technician's open jobs, as many as anyone carries.
const MY_JOBS_LIMIT = 200;

/**
 * The caller's own jobs, {items, syncedAt, offline}. Online, the list and then every listed job's detail and
 * unit are read and kept on the device (`ready` ids come back through onReady as each one is stored), so
 * any of them opens later without a signal. Offline, the kept list and when it was read.
 */
export async function myJobs({ onReady = () => {} } = {}) {
  try {
    // The list's own lean shape (number, kind, status, priority, title, place, version, clocks): what the
    // screen shows; each job's detail is read and kept separately below.
    const body = await request(`/work-orders/mine${query({ limit: MY_JOBS_LIMIT })}`, { fresh: true });
    const { items } = body;
    await saveList('mine', items).catch(() => undefined);
    keepDetails(items, onReady);
    return { items, syncedAt: new Date().toISOString(), offline: false };
  } catch (error) {
    if (!(error instanceof OfflineError)) throw error;
    const saved = await savedList('mine').catch(() => undefined);
    if (!saved) throw error;
    return { items: saved.items, syncedAt: saved.syncedAt, offline: true };
  }
}

async function keepDetails(items, onReady) {
  // One at a time: a weak signal and the server both prefer it to a burst of parallel reads.
  for (const item of items) {
    try {
      const kept = await savedJob(item.id).catch(() => undefined);
      if (kept && kept.job.version === item.version && kept.job.status === item.status) {
        onReady(item.id);
        continue;
      }
      const job = await getWorkOrder(item.id);
      if (job.offlineCopy) return;
      if (job.unitId) await getUnit(job.unitId).catch(() => null);
      onReady(item.id);
    } catch {
      return;
    }
  }
}

/**
 * On-duty technicians ranked for a job, best first. The wire is a page {items: [{userId, displayName, skills,
 * skilled, openJobs, nearby, reasons: [{code: skilled|not_skilled|nearby|open_jobs, skill, count}]}], total,
 * limit, offset}; this answers the items. Whom a complaint is about is left out.
 */
export async function suggestions(id, { limit = 50, offset = 0 } = {}) {
  const body = await request(`/work-orders/${id}/suggestions${query({ limit, offset })}`);
  return body.items;
}

/**
 * Follow-up calls due, earliest first: {items: [{workOrderId, number, kind, title, dueAt, attempts, unitLabel,
 * reporterName, reporterPhone, ownerName, ownerPhone, assigneeName, resolution}], total, limit, offset}.
 */
export async function listCallbacks({ site, limit = 200, offset = 0 } = {}) {
  return request(`/callbacks${query({ site, limit, offset })}`);
}

/** The campaign worklist (routine sample, move-in calls): owed ones earliest first, or worked (done). */
export async function listCampaignCalls({ site, campaign, done = false, limit = 100, offset = 0 } = {}) {
  return request(`/campaign-calls${query({ site, campaign, done: done ? 'true' : null, limit, offset })}`);
}

/** Record a campaign call's outcome: reached (satisfaction), no_answer or refused; notes; followUp job. */
export function recordCampaignOutcome(id, body) {
  return submit(jsonEntry(`${BASE}/campaign-calls/${id}/outcome`, body, 'campaignOutcome', null));
}

/** The promises made on a case. */
export async function listPromises(workOrderId) {
  return (await request(`/work-orders/${workOrderId}/promises${query({ limit: 200 })}`)).items;
}

/** Record a promise made to the owner on a case: { text, dueAt }. */
export function makePromise(workOrderId, body) {
  return submit(jsonEntry(`${BASE}/work-orders/${workOrderId}/promises`, body, 'promise', workOrderId, { stamped: false }));
}

/** Mark a promise kept, with an optional note. */
export function keepPromise(promiseId, note = '', workOrderId = null) {
  return submit(jsonEntry(`${BASE}/promises/${promiseId}/keep`, { note }, 'keepPromise', workOrderId, { stamped: false }));
}

/** A photo's small preview (`thumbUrl` of a work order's photo) as an object URL for an <img>. */
export async function photoThumbnail(photo) {
  const token = await currentToken();
  const response = await fetch(photo.thumbUrl, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) throw new ApiError(response.status, {});
  return URL.createObjectURL(await response.blob());
}

/** The printable service record's URL (HTML). */
export function receiptUrl(id) {
  return `${BASE}/work-orders/${id}/receipt`;
}

/** Fetch the service record HTML with the bearer token, in the interface's language. */
export async function receiptHtml(id, lang) {
  const token = await currentToken();
  const response = await fetch(`${receiptUrl(id)}${query({ lang })}`, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) throw new ApiError(response.status, { detail: await response.text() });
  return response.text();
}

// ---- registry ----

/**
 * A unit with its residents (owner first). Kept on the device once read, so the owner's name and number
 * are still there when the technician opens the job again in a basement.
 */
export async function getUnit(id) {
  try {
    const unit = await request(`/units/${id}`);
    localStorage.setItem(unitKey(id), JSON.stringify(unit));
    return unit;
  } catch (error) {
    const saved = savedUnit(id);
    if (saved) return saved;
    throw error;
  }
}

function unitKey(id) {
  return `caretaker.unit.${id}`;
}

/** The unit as last read on this device (the job list keeps it fresh), or null. */
export function savedUnit(id) {
  const saved = localStorage.getItem(unitKey(id));
  return saved ? JSON.parse(saved) : null;
}

/**
 * Find the caller's home: by an address as said ("3栋1单元1201", "三栋一二零一", "3-1-1201"), by building and
 * number, or by the end of a resident's phone. {items: [{id, buildingCode, buildingName, number, residents}],
 * near: [{id, buildingCode, buildingName, number, reason}] when nothing matched, understood: {building,
 * stairwell, room}}.
 */
export async function lookupUnits({ site, address, building, number, phone }) {
  const body = await request(`/units/lookup${query({ site, address, building, number, phone })}`);
  return { near: [], understood: null, ...body };
}

/** Users of a site, of one role when `role` is given. */
export async function listUsers({ role, site }) {
  const body = await request(`/users${query({ role, site })}`);
  return body.items;
}

/** The caller's sites (admins: every site): [{id, code, name, timezone}]. */
export async function listSites() {
  const body = await request(`/sites${query({ limit: 200 })}`);
  return body.items;
}

// ---- reports ----

/**
 * Management KPIs of one site over whole site-local days (definitions in docs/REPORTS.md):
 * {site, period: {fromDate, toDate}, generatedAt, total, byKind, byStatus,
 *  response|arrival|resolution: {due, onTime, late, onTimeRate, measured, medianMinutes, p90Minutes},
 *  callback: {due, onTime, onTimeRate, complaintsDue, complaintsCalledInTime, complaintRate},
 *  satisfaction: {ratings, average, satisfied, satisfiedShare}, reopen: {completed, reopened, rate},
 *  complaints: {total, previousTotal, byCategory: [{category, count, previous, change, changeRate}]},
 *  alarms: {total, byCode: [{code, severity, count}], bySeverity, acknowledged, unacknowledged,
 *           ackP50Seconds, ackP95Seconds},
 *  now: {open, overdue, overdueList}, technicians: [{userId, username, displayName, openNow, overdueNow,
 *  assigned, completed, arrivalDue, arrivalOnTimeRate, resolutionDue, resolutionOnTimeRate,
 *  medianResolutionMinutes, ratings, satisfactionAverage, reopened}]}. Rates are 0–1 or null.
 */
export function kpiReport({ site, from, to }) {
  return request(`/reports/kpis${query({ site, from, to })}`);
}

/**
 * The work orders created in a period at a site as CSV (UTF-8 with BOM, labels in `lang`: zh or en), with the
 * file name the server gives it: {blob, filename}.
 */
export async function workOrdersCsv({ site, from, to, lang }) {
  const token = await currentToken();
  const response = await fetch(`${BASE}/reports/work-orders.csv${query({ site, from, to, lang })}`, {
    headers: { Authorization: `Bearer ${token}`, Accept: 'text/csv' },
  });
  if (!response.ok) throw new ApiError(response.status, { detail: await response.text() });
  const disposition = response.headers.get('content-disposition') || '';
  const filename = (disposition.match(/filename="?([^";]+)"?/) || [])[1] || 'work-orders.csv';
  return { blob: await response.blob(), filename };
}

// ---- alarms ----

/**
 * Alarms, newest first; {active: true} for the open ones, {site: code or id} for one site. The wire is a page
 * {items, total, limit, offset}; this returns its items. Each alarm: {id, code, severity, active, open, count,
 * detail: {floor, passengers, metric, value, threshold…}, raisedAt, ackedAt, resolvedAt, deviceId, deviceName,
 * deviceKind, location, buildingName, siteCode, escalationLevel, ackDueAt (when the next rung is told, from the
 * site's own setting; null once acknowledged or at the top), escalatesTo, escalatedTo (roles), workOrderId,
 * workOrder: {id, number, kind, status, assigneeId, assigneeName, acceptedAt, arrivedAt, done}}.
 * The stream's `escalation` event for an alarm is {kind: 'alarm', alarmId, level, role, at, alarm}.
 */
export async function listAlarms(filters = {}) {
  const body = await request(`/alarms${query(filters)}`);
  return body.items;
}

// ---- push ----

/** The server's VAPID public key (base64url). */
export async function vapidPublicKey() {
  const body = await request('/push/vapid-public-key');
  return typeof body === 'string' ? body : body.publicKey || body.key;
}

// ---- mutations (all through the outbox) ----

const waiters = new Map();
onOutboxMessage((message) => {
  if ((message.type === 'delivered' || message.type === 'conflict') && waiters.has(message.id)) {
    waiters.get(message.id)(message);
    waiters.delete(message.id);
  }
});

/** Ask the service worker for a background sync (the page replays too: iOS has no Background Sync). */
async function scheduleReplay() {
  if ('serviceWorker' in navigator) {
    try {
      const registration = await navigator.serviceWorker.ready;
      if (registration.sync) await registration.sync.register('outbox');
    } catch {
      // Background Sync missing or refused: the page's own replay below and the `online` event cover it.
    }
  }
}

/**
 * Queue a mutation and try to send it now. Resolves with {state: 'delivered', body} once the server took it,
 * {state: 'conflict', conflict} when it refused it, or {state: 'queued'} when it waits for the network; each
 * with the outbox entry's `id`, which the outbox's own announcements carry too.
 */
async function submit(entry, followers = []) {
  const queued = await enqueue(entry, followers);
  const outcome = new Promise((resolve) => waiters.set(queued.id, resolve));
  if (!navigator.onLine) {
    scheduleReplay();
    waiters.delete(queued.id);
    return { state: 'queued', entry: queued, id: queued.id };
  }
  const result = await replay().catch(() => ({ state: 'offline', outcomes: [] }));
  const mine = result.outcomes.find((o) => o.id === queued.id);
  if (mine) {
    waiters.delete(queued.id);
    return mine.type === 'delivered' ? { state: 'delivered', body: mine.body, id: queued.id } : { state: 'conflict', conflict: mine.conflict, id: queued.id };
  }
  const stillQueued = (await pendingEntries()).some((e) => e.id === queued.id);
  if (stillQueued) {
    waiters.delete(queued.id);
    scheduleReplay();
    return { state: 'queued', entry: queued, id: queued.id };
  }
  // Delivered by another replayer (the service worker); its announcement carries the outcome.
  const message = await outcome;
  return message.type === 'delivered' ? { state: 'delivered', body: message.body, id: queued.id } : { state: 'conflict', conflict: message.conflict, id: queued.id };
}

// `stamped`: the body carries clientAt, when it happened on the phone (actions do; a subscription does not).
function jsonEntry(url, body, label, jobId, { stamped = true } = {}) {
  const clientAt = body.clientAt || new Date().toISOString();
  return {
    url,
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(stamped ? { ...body, clientAt } : body),
    clientAt,
    label,
    jobId,
  };
}

async function multipartEntry(url, form, clientAt, label, jobId) {
  // Serialise the form once, now: IndexedDB keeps an ArrayBuffer reliably (Safari loses Blobs), and the
  // boundary in the Content-Type must match the bytes.
  const serialised = new Request('/', { method: 'POST', body: form });
  const body = await serialised.arrayBuffer();
  return {
    url,
    method: 'POST',
    headers: { 'Content-Type': serialised.headers.get('content-type'), Accept: 'application/json' },
    body,
    clientAt,
    label,
    jobId,
  };
}

/** The position, if the phone gives it within a moment (never blocks an action). */
export function currentGeo(timeoutMs = 1500) {
  if (!('geolocation' in navigator)) return Promise.resolve(null);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        clearTimeout(timer);
        resolve({ lat: pos.coords.latitude, lng: pos.coords.longitude, accuracy: pos.coords.accuracy });
      },
      () => {
        clearTimeout(timer);
        resolve(null);
      },
      { maximumAge: 60000, timeout: timeoutMs },
    );
  });
}

/**
 * A work-order action: accept, decline, depart, arrive, pause, resume, complete, assign, cancel, close,
 * callback, reopen. `fields` carries reason, checklist {code: true}, resolution fields, assigneeId...
 */
export function workOrderAction(id, action, fields = {}, label = action) {
  return submit(jsonEntry(`${BASE}/work-orders/${id}/${action}`, fields, label, id));
}

/** Record a new work order (repair or complaint intake). */
export function createWorkOrder(fields) {
  return submit(jsonEntry(`${BASE}/work-orders`, fields, 'create', null));
}

// ---- suggestions and praise (建议/表扬) ----

/** Record a suggestion or praise taken at the desk: {site, kind, text, channel, unitId, reporterName,
 * reporterPhone, praisedUserId}. Routed by the server to the site's supervisor. */
export function createFeedback(fields) {
  return submit(jsonEntry(`${BASE}/feedback`, fields, 'feedbackCreate', null, { stamped: false }));
}

/** The answer given to the owner ({via, summary}); it closes the feedback. */
export function answerFeedback(id, fields) {
  return submit(jsonEntry(`${BASE}/feedback/${id}/answer`, fields, 'feedbackAnswer', null, { stamped: false }));
}

/** Suggestions and praise: {items, total, limit, offset}, open first; filters {site, kind, open, praised}. */
export function listFeedback(filters = {}) {
  return request(`/feedback${query(filters)}`);
}

/** Upload a photo (JPEG blob) for a stage: before | during | after. */
export async function uploadPhoto(id, blob, stage, clientAt = new Date().toISOString()) {
  const form = new FormData();
  form.append('file', blob, `photo-${Date.now()}.jpg`);
  form.append('stage', stage);
  form.append('clientAt', clientAt);
  return submit(await multipartEntry(`${BASE}/work-orders/${id}/photos`, form, clientAt, 'photo', id));
}

/** The owner's signature (PNG blob, signer name, relation) or a reason why nobody signed. */
export async function signWorkOrder(id, { png, signerName, relation, noSignReason }, clientAt = new Date().toISOString()) {
  const form = new FormData();
  if (png) {
    form.append('file', png, 'signature.png');
    form.append('signerName', signerName);
    form.append('relation', relation);
  } else {
    form.append('noSignReason', noSignReason);
  }
  form.append('clientAt', clientAt);
  return submit(await multipartEntry(`${BASE}/work-orders/${id}/sign`, form, clientAt, 'sign', id));
}

/** Acknowledge an alarm. */
export function ackAlarm(id) {
  return submit(jsonEntry(`${BASE}/alarms/${id}/ack`, {}, 'ack', null));
}

/** Resolve an alarm; while its work order is open the server wants a `note` (422 alarm_resolve_reason_required). */
export function resolveAlarm(id, note = '') {
  return submit(jsonEntry(`${BASE}/alarms/${id}/resolve`, note ? { note } : {}, 'resolve', null));
}

/** Store a Web Push subscription for this user. */
export function savePushSubscription(subscription) {
  return submit(jsonEntry(`${BASE}/push/subscriptions`, subscription, 'push', null, { stamped: false }));
}

/** A single-use ticket for opening the live stream (EventSource cannot send the Authorization header). */
export async function streamTicket() {
  const body = await request('/stream/tickets', { method: 'POST' });
  return body.ticket;
}

/** The live stream's URL for a ticket, resuming after `lastEventId` when given. No bearer token in it. */
export function streamUrl(ticket, lastEventId) {
  return `${BASE}/stream${query({ ticket, lastEventId })}`;
}

// ---- rounds (巡逻) ----

/** Rounds of the last and next twelve hours (each with its points and scans). */
export function listRounds(filters = {}) {
  return request(`/rounds${query(filters)}`);
}

/** One round with its points and scans. */
export function getRound(id) {
  return request(`/rounds/${id}`);
}

/** The routes the user may walk, each with its points (name, place, qrHash). */
export function listRoutes(filters = {}) {
  return request(`/round-routes${query(filters)}`);
}

/** Start a scheduled round. */
export function startRound(id, clientAt = new Date().toISOString()) {
  return submit(jsonEntry(`${BASE}/rounds/${id}/start`, { clientAt }, 'roundStart', null));
}

/** Start an unscheduled round of a route under an id made here, so scans can follow while offline. */
export function startWalk(id, routeId, clientAt = new Date().toISOString()) {
  return submit(jsonEntry(`${BASE}/rounds`, { id, routeId, clientAt }, 'roundStart', null));
}

/** Record a scanned point: the decoded QR text, normal|abnormal, a note and an optional photo (JPEG blob). */
export async function scanPoint(roundId, { qr, result, note = '', photo = null }, clientAt = new Date().toISOString()) {
  const form = new FormData();
  form.append('qr', qr);
  form.append('result', result);
  form.append('note', note);
  form.append('clientAt', clientAt);
  if (photo) form.append('file', photo, `finding-${Date.now()}.jpg`);
  return submit(await multipartEntry(`${BASE}/rounds/${roundId}/scans`, form, clientAt, 'scan', null));
}

/** The printable QR sheet of a route's points (HTML). */
export async function roundQrSheet(routeId) {
  const token = await currentToken();
  const response = await fetch(`${BASE}/round-routes/${routeId}/qr-sheet`, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) throw new ApiError(response.status, {});
  return response.text();
}

// ---- owners' messages (staff side) ----

/** A case's messages to and from its owners: {items, total, limit, offset}, oldest first. */
export function caseOwnerMessages(id, { limit = 100, offset = 0 } = {}) {
  return request(`/work-orders/${id}/owner-messages${query({ limit, offset })}`);
}

/** A reply to the case's owners (SMS and email through the server's outbox). */
export function replyToOwners(id, text) {
  return submit(jsonEntry(`${BASE}/work-orders/${id}/owner-messages`, { text }, 'ownerReply', id));
}

/** The desk opened the case: its owners' messages are read ({read: how many were unread}). */
export function markOwnerMessagesRead(id) {
  return request(`/work-orders/${id}/owner-messages/read`, { method: 'POST' });
}

/**
 * Cases whose owners wrote after the last reply, the longest waiting first: {items: [{workOrderId, number,
 * caseKind, status, title, waiting, unread, since, lastText}], total, limit, offset}.
 */
export function ownersWaiting({ site, limit = 50, offset = 0 } = {}) {
  return request(`/owner-messages/waiting${query({ site, limit, offset })}`);
}

/** Owners' messages that ended failed: {items, total, limit, offset}, latest first. */
export function failedOwnerMessages({ site, limit = 50, offset = 0 } = {}) {
  return request(`/owner-messages/failed${query({ site, limit, offset })}`);
}

/** Put a failed message back in the server's outbox (the same message: it still goes once). */
export function retryOwnerMessage(id) {
  return submit(jsonEntry(`${BASE}/owner-messages/${id}/retry`, {}, 'ownerRetry', null, { stamped: false }));
}

/** The printable QR codes of a building's unit links (HTML). */
export async function unitLinkSheet(buildingId) {
  const token = await currentToken();
  const response = await fetch(`${BASE}/buildings/${buildingId}/owner-link-sheet`, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) throw new ApiError(response.status, {});
  return response.text();
}

/** A site's buildings: {items, total, limit, offset}. */
export function listBuildings({ site, limit = 200, offset = 0 } = {}) {
  return request(`/buildings${query({ site, limit, offset })}`);
}

// ---- outages: planned cuts and the guard's visits to the vulnerable ----

/** Planned water and power cuts: {items, total, limit, offset}, open ones first. */
export function listPlannedOutages({ site, limit = 50, offset = 0 } = {}) {
  return request(`/planned-outages${query({ site, limit, offset })}`);
}

/** Announce a planned cut: {buildingId, kind: water|power, startsAt, endsAt, note}. */
export function announceOutage(fields) {
  return submit(jsonEntry(`${BASE}/planned-outages`, fields, 'outageAnnounce', null));
}

/** The planned cut is over: the residents are told once. */
export function restoreOutage(id) {
  return submit(jsonEntry(`${BASE}/planned-outages/${id}/restore`, {}, 'outageRestore', null, { stamped: false }));
}

/** Each outage now with its building's vulnerable residents to visit: {items, ...}. */
export function outageVisits() {
  return request('/outage-visits');
}

/** Mark a vulnerable resident visited: {source: alarm|planned, outageId, residentId}. */
export function markVisited(fields) {
  return submit(jsonEntry(`${BASE}/outage-visits`, fields, 'visit', null));
}

// ---- laying out rounds (supervisors and up) ----

/** The check points of the caller's sites, with the text their QR code carries. */
export function listCheckPoints(filters = {}) {
  return request(`/check-points${query(filters)}`);
}

/** The schedules of the caller's sites, next slot first. */
export function listSchedules(filters = {}) {
  return request(`/round-schedules${query(filters)}`);
}

function patchEntry(url, body, label) {
  return { ...jsonEntry(url, body, label, null, { stamped: false }), method: 'PATCH' };
}

/** A new check point: {site, name, place}. */
export function createCheckPoint(fields) {
  return submit(jsonEntry(`${BASE}/check-points`, fields, 'roundSetup', null, { stamped: false }));
}

/** Rename, move or switch off a check point: {name, place, active}. */
export function updateCheckPoint(id, fields) {
  return submit(patchEntry(`${BASE}/check-points/${id}`, fields, 'roundSetup'));
}

/** A new route: {name, expectedMinutes, checkPointIds (walking order)}. */
export function createRoute(fields, site) {
  return submit(jsonEntry(`${BASE}/round-routes${query({ site })}`, fields, 'roundSetup', null, { stamped: false }));
}

/** Rename a route, change its minutes or switch it off: {name, expectedMinutes, active}. */
export function updateRoute(id, fields) {
  return submit(patchEntry(`${BASE}/round-routes/${id}`, fields, 'roundSetup'));
}

/** A new schedule of a route: {everyHours, windowStart, windowEnd} or {fixedTimes}. */
export function createSchedule(routeId, fields) {
  return submit(jsonEntry(`${BASE}/round-routes/${routeId}/schedules`, fields, 'roundSetup', null, { stamped: false }));
}

/** Switch a schedule off or on: {active}. */
export function updateSchedule(id, fields) {
  return submit(patchEntry(`${BASE}/round-schedules/${id}`, fields, 'roundSetup'));
}

/** The printable QR sheet of every active point of a site (HTML). */
export async function siteQrSheet(site) {
  return (await authorisedBlob(`/check-points/qr-sheet${query({ site })}`)).text();
}

/** The rounds of one shift: {site, day, shift, start, end, rounds: [...], totals}. */
export function roundReport({ day, shift, site } = {}) {
  return request(`/rounds/report${query({ day, shift, site })}`);
}

// ---- the hazard ledger (隐患台账) ----

/** The ledger: {items, total, limit, offset}, open hazards first. */
export function listHazards(filters = {}) {
  return request(`/hazards${query(filters)}`);
}

/** One hazard with its history and `allowedActions` for the caller. */
export function getHazard(id) {
  return request(`/hazards/${id}`);
}

/** Open, overdue and closed hazards per risk level. */
export function hazardCounts(site) {
  return request(`/hazards/counts${query({ site })}`);
}

/**
 * Register a hazard: place, description, riskLevel (and workOrderId when found on a job), with an optional
 * photo (JPEG blob). The photo waits in the outbox right behind the hazard and is sent to the hazard's id once
 * the hazard is delivered, whether this screen is still open then or not.
 */
export async function createHazard(fields, photo = null) {
  const entry = jsonEntry(`${BASE}/hazards`, fields, 'hazardCreate', null);
  if (!photo) return submit(entry);
  const form = new FormData();
  form.append('file', photo, `hazard-${Date.now()}.jpg`);
  return submit(entry, [await multipartEntry(`${BASE}/hazards/{after}/photo`, form, entry.clientAt, 'hazardPhoto', null)]);
}

/** A move of the ledger: analyse, control, rectify, recheck, recheck_failed, close. */
export function hazardMove(id, action, fields = {}) {
  return submit(jsonEntry(`${BASE}/hazards/${id}/${action.replace('_', '-')}`, fields, `hazard.${action}`, null));
}

async function authorisedBlob(path) {
  const token = await currentToken();
  const response = await fetch(`${BASE}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) throw new ApiError(response.status, {});
  return response.blob();
}

/** An object URL of a hazard's photo thumbnail (the caller revokes it). */
export async function hazardPhotoUrl(id) {
  return URL.createObjectURL(await authorisedBlob(`/hazards/${id}/photo?thumb=true`));
}

/** The ledger as a CSV file (with BOM). */
export function hazardsCsv(site) {
  return authorisedBlob(`/hazards/export.csv${query({ site })}`);
}

// ---- emergency plans, drills and training ----

/** The plan running for an alarm: {scenario, steps: [{id, labelZh, labelEn, role, dueAt, overdue, doneAt, doneByName}], phones, welfareVisits}. */
export function alarmChecklist(alarmId) {
  return request(`/alarms/${alarmId}/checklist`);
}

/** The plan running on an emergency work order (404 when it runs none). */
export function workOrderChecklist(workOrderId) {
  return request(`/work-orders/${workOrderId}/checklist`);
}

/** Tick a step off (through the outbox: exactly once, with the phone's time). */
export function emergencyStepDone(stepId) {
  return submit(jsonEntry(`${BASE}/emergency-steps/${stepId}/done`, {}, 'emergencyStep', null));
}

/** The vulnerable residents to visit in the power cut an alarm reports: {items, total, limit, offset}. */
export function welfareVisits(alarmId) {
  return request(`/alarms/${alarmId}/welfare-visits`);
}

/** Every scenario's plan of a site. */
export function emergencyPlans(site) {
  return request(`/emergency-plans${query({ site })}`);
}

/** Replace a site's plan for a scenario (managers; online only: a plan is not edited in the field). */
export function saveEmergencyPlan(scenario, plan) {
  return request(`/emergency-plans/${scenario}`, { method: 'PUT', json: plan });
}

/** Maintenance plans of the user's sites with their asset and notice setting: {items, total, limit, offset}. */
export function maintenancePlans({ limit = 50, offset = 0 } = {}) {
  return request(`/maintenance-plans${query({ limit, offset })}`);
}

/** What a plan's work interrupts for its building (kind water|power|lift, or null), how far ahead, how long. */
export function setPlanNotice(planId, { kind, leadHours, windowHours }) {
  return request(`/maintenance-plans/${planId}/resident-notice`, { method: 'PUT', json: { kind, leadHours, windowHours } });
}

/** A job's notice to its asset's building (404 when it has told nobody). */
export function jobResidentNotice(workOrderId) {
  return request(`/work-orders/${workOrderId}/resident-notice`);
}

/** Tell every resident of the job's building what its work interrupts and when: {kind, startsAt, endsAt, note}. */
export function tellResidents(workOrderId, fields) {
  return submit(jsonEntry(`${BASE}/work-orders/${workOrderId}/resident-notice`, fields, 'residentNotice', workOrderId, { stamped: false }));
}

/** Open an emergency by hand ({scenario, location, description, site}): its job runs the scenario's plan. */
export function reportEmergency(fields) {
  return submit(jsonEntry(`${BASE}/emergencies`, fields, 'emergencyReport', null));
}

/** The emergencies reported by hand and still open, each with its checklist: {items, total, …}. */
export function reportedEmergencies(filters = {}) {
  return request(`/emergencies${query(filters)}`);
}

/** The scenarios a site has not drilled within a year: {siteId, items: [{scenario, labelZh, labelEn, lastHeldOn}]}. */
export function drillsDue(site) {
  return request(`/drills/due${query({ site })}`);
}

/** The drill register: {items, total, limit, offset}. */
export function listDrills(filters = {}) {
  return request(`/drills${query(filters)}`);
}

/** Register a drill held. */
export function createDrill(fields) {
  return submit(jsonEntry(`${BASE}/drills`, fields, 'drillCreate', null, { stamped: false }));
}

/** The training register: {items, total, limit, offset}. */
export function listTrainings(filters = {}) {
  return request(`/trainings${query(filters)}`);
}

/** Register a training session held. */
export function createTraining(fields) {
  return submit(jsonEntry(`${BASE}/trainings`, fields, 'trainingCreate', null, { stamped: false }));
}

/** The ledger as a printable A4 page (HTML): filters {site, status, risk, lang}. */
export async function hazardsPrintPage(filters = {}) {
  return (await authorisedBlob(`/hazards/print${query(filters)}`)).text();
}

// ---- the quarterly safety check (季度安全检查) ----

/** The checks of the caller's sites, newest quarter first: {items, total, limit, offset}. */
export function listSafetyChecks(filters = {}) {
  return request(`/safety-checks${query(filters)}`);
}

/** One check with its focus points and their answers. */
export function getSafetyCheck(id) {
  return request(`/safety-checks/${id}`);
}

/** Answer one focus point: outcome 'ok' or 'finding' (note, riskLevel, optional photo); through the outbox. */
export async function answerSafetyPoint(checkId, code, { outcome, note = '', riskLevel = '', photo = null }, clientAt = new Date().toISOString()) {
  const form = new FormData();
  form.append('outcome', outcome);
  form.append('note', note);
  if (riskLevel) form.append('riskLevel', riskLevel);
  form.append('clientAt', clientAt);
  if (photo) form.append('file', photo, `finding-${Date.now()}.jpg`);
  return submit(await multipartEntry(`${BASE}/safety-checks/${checkId}/points/${code}`, form, clientAt, 'safetyAnswer', null));
}

/** An object URL of a point's photo thumbnail (the caller revokes it). */
export async function safetyPointPhotoUrl(checkId, code) {
  return URL.createObjectURL(await authorisedBlob(`/safety-checks/${checkId}/points/${code}/photo?thumb=true`));
}

// ---- what the server says a job may do (the views keep no copy of the rules) ----

/** The action a queued outbox entry stands for ('accept', 'photos', 'sign' …). */
export function entryAction(entry) {
  return entry.url.split('/').pop();
}

/**
 * The job as it will be once this device's queued actions reach the server: its status and the actions
 * open after them, both read from the server's own `transitions` (status -> {action: next status}) that
 * came with the job. With nothing queued, the server's `allowedActions` stand as they are.
 */
export function afterQueued(job, queued) {
  const mine = queued.filter((q) => q.jobId === job.id).map(entryAction);
  const steps = mine.filter((action) => action !== 'photos');
  if (!steps.length) return { status: job.status, allowedActions: job.allowedActions || [], pending: mine };
  let status = job.status;
  for (const action of steps) {
    const next = ((job.transitions || {})[status] || {})[action];
    if (next) status = next;
  }
  return { status, allowedActions: Object.keys((job.transitions || {})[status] || {}), pending: mine };
}

/** The next unmet deadline of a job: {clock, dueAt} or null. */
export function nextDeadline(job) {
  const open = (job.clocks || []).filter((c) => c.dueAt && !c.metAt && c.state !== 'paused');
  open.sort((a, b) => new Date(a.dueAt) - new Date(b.dueAt));
  return open[0] || null;
}

/** "1栋 302" style label of a unit, or of the unit a job or callback row names. */
export function unitLabel(item) {
  if (!item) return '';
  if (item.unitLabel) return item.unitLabel;
  // A work order also has a `number` (WO-…): only something with a building is a unit.
  const unit = item.unit || (item.buildingName || item.buildingCode ? item : null);
  if (!unit || !unit.number) return '';
  return `${unit.buildingName || unit.buildingCode || unit.building || ''} ${unit.number}`.trim();
}
