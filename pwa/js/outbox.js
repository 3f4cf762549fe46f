/**
 * The offline outbox: every mutation waits in IndexedDB until the server has answered it.
 *
 * Used by both the page and the service worker. Entries are replayed strictly in order; a network failure
 * stops the replay and keeps the entry at the front; a 2xx removes it; a 4xx removes it and records a
 * visible conflict with the server's reason; a 401 stops and keeps everything until the user logs in again.
 * Replays start on `sync`, on service-worker start and on `online` — often several at once — so one Web
 * Lock serialises them, and the Idempotency-Key makes a repeated delivery harmless anyway.
 *
 * An entry may follow another (`after`: the other's id) when its URL needs what the other creates — a
 * hazard's photo needs the hazard's id. Its URL carries the placeholder `{after}`; when the entry it follows
 * is delivered, the same transaction that removes that entry writes the created id into the follower's URL,
 * so the follower survives a closed app and is sent once, after it. Refused, it takes its followers along.
 */

const DB_NAME = 'caretaker';
// Version 1: outbox (ordered by auto-increment id), conflicts, session (the bearer token for replays).
const DB_VERSION = 1;
const CHANNEL_NAME = 'caretaker-outbox';
const LOCK_NAME = 'caretaker-outbox-replay';

let dbPromise = null;

function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = (event) => {
        const db = request.result;
        if (event.oldVersion < 1) {
          db.createObjectStore('outbox', { keyPath: 'id', autoIncrement: true });
          db.createObjectStore('conflicts', { keyPath: 'id', autoIncrement: true });
          db.createObjectStore('session');
        }
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return dbPromise;
}

async function withStore(name, mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(name, mode);
    let result;
    Promise.resolve(work(tx.objectStore(name))).then((value) => { result = value; });
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

function requestValue(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function announce(message) {
  const channel = new BroadcastChannel(CHANNEL_NAME);
  channel.postMessage(message);
  channel.close();
}

/** Listen to outbox news (queued, delivered, conflict, auth-required, changed) from any context. */
export function onOutboxMessage(listener) {
  const channel = new BroadcastChannel(CHANNEL_NAME);
  channel.onmessage = (event) => listener(event.data);
  return () => channel.close();
}

/** The bearer token replays use (kept in IndexedDB so the service worker can read it). */
export async function getToken() {
  return withStore('session', 'readonly', (store) => requestValue(store.get('token')));
}

/** Remember (or with null, forget) the bearer token. */
export async function setToken(token) {
  await withStore('session', 'readwrite', (store) => (token ? store.put(token, 'token') : store.delete('token')));
}

function newEntry({ url, method = 'POST', headers = {}, body = null, clientAt, label = '', jobId = null }) {
  return {
    url,
    method,
    headers,
    body,
    ts: Date.now(),
    idempotencyKey: crypto.randomUUID(),
    clientAt: clientAt || new Date().toISOString(),
    label,
    jobId,
  };
}

/**
 * Queue one mutation. `body` is a string (JSON) or an ArrayBuffer (multipart, photos and signatures).
 * `followers` are entries sent after it that need its created id: their URL says `{after}` where it goes.
 * All are stored in one transaction (no replay can slip between them). Returns the stored entry with its id.
 */
export async function enqueue(fields, followers = []) {
  const entry = { ...newEntry(fields), ...(followers.length ? { followers: followers.length } : {}) };
  const db = await openDb();
  await new Promise((resolve, reject) => {
    const tx = db.transaction('outbox', 'readwrite');
    const store = tx.objectStore('outbox');
    store.add(entry).onsuccess = (event) => {
      entry.id = event.target.result;
      for (const follower of followers) store.add({ ...newEntry(follower), after: entry.id });
    };
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
  announce({ type: 'queued', id: entry.id });
  return entry;
}

/** Every queued entry, oldest first. */
export async function pendingEntries() {
  return withStore('outbox', 'readonly', (store) => requestValue(store.getAll()));
}

/** How many actions wait for the network. */
export async function pendingCount() {
  return withStore('outbox', 'readonly', (store) => requestValue(store.count()));
}

async function firstEntry() {
  return withStore('outbox', 'readonly', async (store) => {
    const cursor = await requestValue(store.openCursor());
    return cursor ? cursor.value : null;
  });
}

/**
 * Remove an answered entry; its followers (an entry queued with some says how many) get the created id
 * (`createdId`) written into their URL, or, when there is none (refused), are removed too and returned so
 * they can be recorded as refused.
 */
async function removeEntry(entry, createdId = null) {
  const { id } = entry;
  if (!entry.followers) {
    await withStore('outbox', 'readwrite', (store) => store.delete(id));
    return [];
  }
  const dropped = [];
  const db = await openDb();
  await new Promise((resolve, reject) => {
    const tx = db.transaction('outbox', 'readwrite');
    const store = tx.objectStore('outbox');
    store.delete(id);
    store.openCursor().onsuccess = (event) => {
      const cursor = event.target.result;
      if (!cursor) return;
      const follower = cursor.value;
      if (follower.after === id) {
        if (createdId) {
          const { after, ...rest } = follower;
          cursor.update({ ...rest, url: follower.url.replace('{after}', encodeURIComponent(createdId)) });
        } else {
          dropped.push(follower);
          cursor.delete();
        }
      }
      cursor.continue();
    };
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
  return dropped;
}

/** Conflicts the server refused (4xx), for the technician to read and dismiss. */
export async function listConflicts() {
  return withStore('conflicts', 'readonly', (store) => requestValue(store.getAll()));
}

/** Forget one conflict once it has been read. */
export async function dismissConflict(id) {
  await withStore('conflicts', 'readwrite', (store) => store.delete(id));
  announce({ type: 'changed' });
}

async function recordConflict(entry, status, problem) {
  const conflict = {
    entryId: entry.id,
    url: entry.url,
    label: entry.label,
    jobId: entry.jobId,
    clientAt: entry.clientAt,
    status,
    title: problem.title || '',
    detail: problem.detail || problem.title || '',
    code: problem.code || '',
    field: problem.field || '',
    at: new Date().toISOString(),
  };
  await withStore('conflicts', 'readwrite', (store) => store.add(conflict));
  return conflict;
}

// The server could not take it now (overloaded, restarting): keep it and try again later.
function isTransient(status) {
  return status >= 500 || status === 408 || status === 429;
}

async function replayLocked() {
  const outcomes = [];
  for (;;) {
    const entry = await firstEntry();
    if (!entry) return { state: 'empty', outcomes };
    const token = await getToken();
    if (!token) {
      announce({ type: 'auth-required' });
      return { state: 'auth', outcomes };
    }
    if (entry.after) {
      // what it follows was answered without an id to give it: nothing to send it to
      await removeEntry(entry);
      const conflict = await recordConflict(entry, 409, { code: 'follows_nothing' });
      announce({ type: 'conflict', id: entry.id, url: entry.url, jobId: entry.jobId, status: 409, conflict });
      continue;
    }
    let response;
    try {
      response = await fetch(entry.url, {
        method: entry.method,
        headers: { ...entry.headers, 'Idempotency-Key': entry.idempotencyKey, Authorization: `Bearer ${token}` },
        body: entry.body,
        credentials: 'omit',
      });
    } catch {
      return { state: 'offline', outcomes };
    }
    if (response.status === 401) {
      // An expired session must never cost a queued action: keep everything until the next login.
      announce({ type: 'auth-required' });
      return { state: 'auth', outcomes };
    }
    if (isTransient(response.status)) return { state: 'retry', outcomes };
    let payload = null;
    try {
      payload = await response.json();
    } catch {
      payload = null;
    }
    const created = response.ok && payload && payload.id ? String(payload.id) : null;
    const dropped = await removeEntry(entry, created);
    if (response.ok) {
      const outcome = { type: 'delivered', id: entry.id, url: entry.url, jobId: entry.jobId, status: response.status, body: payload };
      outcomes.push(outcome);
      announce(outcome);
    } else {
      const conflict = await recordConflict(entry, response.status, payload || {});
      const outcome = { type: 'conflict', id: entry.id, url: entry.url, jobId: entry.jobId, status: response.status, conflict };
      outcomes.push(outcome);
      announce(outcome);
    }
    // refused along with what they follow (or it was taken but created nothing to follow)
    const [status, problem] = response.ok ? [409, { code: 'follows_nothing' }] : [response.status, payload || {}];
    for (const follower of dropped) {
      const conflict = await recordConflict(follower, status, problem);
      announce({ type: 'conflict', id: follower.id, url: follower.url, jobId: follower.jobId, status, conflict });
    }
    announce({ type: 'changed' });
  }
}

/** Send queued entries in order until the queue is empty or something stops it; safe to call anytime. */
export async function replay() {
  if (typeof navigator !== 'undefined' && navigator.locks) {
    return navigator.locks.request(LOCK_NAME, replayLocked);
  }
  return replayLocked();
}

/** Drop every queued entry and conflict (after a different user logs in on this device). */
export async function clearAll() {
  await withStore('outbox', 'readwrite', (store) => store.clear());
  await withStore('conflicts', 'readwrite', (store) => store.clear());
  announce({ type: 'changed' });
}
