/**
 * What this phone keeps for working without a signal, in its own IndexedDB database:
 * - `jobs`: the last copy of each job's detail read from the server (checklist, history, what the caller may
 *   do), so any job of the list opens in a basement;
 * - `lists`: the last job list read from the server, with when it was read;
 * - `drafts`: what the technician typed or ticked on a job and has not sent yet, so a re-render, a photo,
 *   a reload or a dead battery never costs it. A draft is dropped once the completion is queued.
 */

const DB_NAME = 'caretaker-device';
// Version 1: jobs (by id), lists (by name), drafts (by job id).
const DB_VERSION = 1;

let dbPromise = null;

function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = (event) => {
        const db = request.result;
        if (event.oldVersion < 1) {
          db.createObjectStore('jobs');
          db.createObjectStore('lists');
          db.createObjectStore('drafts');
        }
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return dbPromise;
}

async function run(store, mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, mode);
    const request = work(tx.objectStore(store));
    tx.oncomplete = () => resolve(request ? request.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/** Keep a job's detail as the server sent it (with the unit it names, when read). */
export function saveJob(job, unit = null) {
  return run('jobs', 'readwrite', (store) => store.put({ job, unit, savedAt: new Date().toISOString() }, job.id));
}

/** The kept copy of a job: {job, unit, savedAt} or undefined. */
export function savedJob(id) {
  return run('jobs', 'readonly', (store) => store.get(id));
}

/** The ids of every job kept on this phone. */
export async function savedJobIds() {
  return new Set(await run('jobs', 'readonly', (store) => store.getAllKeys()));
}

/** Keep a list as the server sent it, with the time it was read. */
export function saveList(name, items) {
  return run('lists', 'readwrite', (store) => store.put({ items, syncedAt: new Date().toISOString() }, name));
}

/** The kept list: {items, syncedAt} or undefined. */
export function savedList(name) {
  return run('lists', 'readonly', (store) => store.get(name));
}

/** What was typed and ticked on a job and not sent yet: {checklist, cause, workDone, signerName, ...} or {}. */
export async function loadDraft(jobId) {
  return (await run('drafts', 'readonly', (store) => store.get(jobId))) || {};
}

/** Merge `fields` into the job's draft (read and write in one transaction: keystrokes in two fields race). */
export async function saveDraft(jobId, fields) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction('drafts', 'readwrite');
    const store = tx.objectStore('drafts');
    let draft;
    store.get(jobId).onsuccess = (event) => {
      draft = { ...(event.target.result || {}), ...fields, savedAt: new Date().toISOString() };
      store.put(draft, jobId);
    };
    tx.oncomplete = () => resolve(draft);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/** Forget the job's draft (its completion is on its way). */
export function clearDraft(jobId) {
  return run('drafts', 'readwrite', (store) => store.delete(jobId));
}

/** Forget the kept jobs and lists but not the drafts (log out: like queued actions, they wait for the next login). */
export async function forgetJobs() {
  for (const store of ['jobs', 'lists']) await run(store, 'readwrite', (s) => s.clear());
}

/** Forget everything kept here (a different user logs in on this device). */
export async function clearDevice() {
  for (const store of ['jobs', 'lists', 'drafts']) await run(store, 'readwrite', (s) => s.clear());
}
