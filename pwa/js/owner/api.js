/**
 * The owner's API (/api/v1/owner/...): its paths and wire fields. Owners carry their own token (from a
 * one-time SMS code), kept apart from any staff login on the same phone. Online only: an owner reports
 * from home, and a failed send is shown at once rather than queued.
 */

const BASE = '/api/v1/owner';
const TOKEN_KEY = 'caretaker.owner.token';

export class OwnerApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

export function ownerToken() {
  return localStorage.getItem(TOKEN_KEY) || '';
}

export function signOut() {
  localStorage.removeItem(TOKEN_KEY);
}

async function request(path, { method = 'GET', json, headers = {} } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers } };
  const token = ownerToken();
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  }
  const response = await fetch(`${BASE}${path}`, init);
  const body = (response.headers.get('content-type') || '').includes('json') ? await response.json() : {};
  if (!response.ok) {
    if (response.status === 401 && path !== '/sessions') signOut();
    throw new OwnerApiError(response.status, body);
  }
  return body;
}

/** {site, building, unit} of a printed unit link. */
export const unitOf = (link) => request(`/units/${encodeURIComponent(link)}`);
export const sendCode = (link, phone) => request('/codes', { method: 'POST', json: { link, phone } });

export async function signIn(link, phone, code) {
  const result = await request('/sessions', { method: 'POST', json: { link, phone, code } });
  localStorage.setItem(TOKEN_KEY, result.token);
  return result;
}

export const listCases = () => request('/cases?limit=50');
export const getCase = (id) => request(`/cases/${id}`);

/** kind: repair | complaint; preferredAt: ISO time or null. */
export const report = ({ kind, category, description, preferredAt }) =>
  request('/cases', { method: 'POST', json: { kind, category, description, preferredAt: preferredAt || null } });

/** Attach a photo of the fault (multipart field `file`). */
export async function addPhoto(id, file) {
  const body = new FormData();
  body.append('file', file);
  const response = await fetch(`${BASE}/cases/${id}/photos`, {
    method: 'POST',
    headers: { Accept: 'application/json', Authorization: `Bearer ${ownerToken()}` },
    body,
  });
  const result = await response.json();
  if (!response.ok) throw new OwnerApiError(response.status, result);
  return result;
}

/** satisfaction, speed, attitude, quality: 1-5; recommend: 0-10. */
export const rate = (id, answers) => request(`/cases/${id}/rating`, { method: 'POST', json: answers });

/** The owner confirms the work is done (once; apart from the rating). */
export const confirmDone = (id) => request(`/cases/${id}/confirmation`, { method: 'POST' });

/** A fresh key for one send: the same key again (a retry) files it once. */
export function requestKey() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** The unit's suggestions and praise, newest first, with the staff's answers. */
export const listFeedback = () => request('/feedback?limit=50');

/** kind: suggestion | praise; key: the send's Idempotency-Key (reuse it to retry). */
export const fileFeedback = ({ kind, text }, key) =>
  request('/feedback', { method: 'POST', json: { kind, text }, headers: { 'Idempotency-Key': key } });

/**
 * The conversation on one of the unit's cases, oldest first: {number, status, timeZone, maxLength,
 * items: [{id, from: owner|staff, text, at, staff: {role, name} | null}]}.
 */
export const caseThread = (id) => request(`/cases/${id}/messages`);

/** Write to the staff about a case; key: the send's Idempotency-Key (reuse it to retry). Answers the thread. */
export const writeMessage = (id, text, key) =>
  request(`/cases/${id}/messages`, { method: 'POST', json: { text }, headers: { 'Idempotency-Key': key } });
