/**
 * Caretaker's service worker: the app shell from a versioned cache, work-order lists and the catalogue
 * network-first with a cached fallback (marked X-Offline-Copy), and the outbox replayed on `sync` and at
 * start. A technician's jobs are kept by the page itself (js/device.js).
 *
 * Registered as a module worker so it shares js/outbox.js with the page. Mutations are never cached:
 * they go through the outbox. Served with Cache-Control: no-cache so a new version is picked up at once.
 */

import { replay } from './js/outbox.js';

// Bump on every change to a file below: the old shell cache is deleted on activate.
const SHELL_VERSION = 'shell-v60';
const API_CACHE = 'api-v1';
const SHELL_FILES = [
  '/',
  '/index.html',
  '/app.webmanifest',
  '/css/app.css',
  '/css/receipt-in-app.css',
  '/js/app.js',
  '/js/api.js',
  '/js/outbox.js',
  '/js/device.js',
  '/js/i18n.js',
  '/js/format.js',
  '/js/dom.js',
  '/js/push.js',
  '/js/live.js',
  '/js/alerts.js',
  '/js/job_alerts.js',
  '/js/views/login.js',
  '/js/views/jobs.js',
  '/js/views/job.js',
  '/js/views/complaint.js',
  '/js/views/receipt.js',
  '/js/views/guard.js',
  '/js/views/intake.js',
  '/js/views/dispatch.js',
  '/js/views/callbacks.js',
  '/js/views/assign.js',
  '/js/views/promises.js',
  '/js/views/campaigns.js',
  '/js/views/dashboard.js',
  '/js/views/rounds.js',
  '/js/views/hazards.js',
  '/js/views/escalated.js',
  '/js/views/feedback.js',
  '/js/views/owner_messages.js',
  '/js/views/unit_links.js',
  '/js/views/outages.js',
  '/js/views/outage_visits.js',
  '/js/views/safety.js',
  '/js/views/plans.js',
  '/js/views/emergency_plan.js',
  '/js/views/emergency_report.js',
  '/js/views/job_safety.js',
  '/js/views/job_notice.js',
  '/js/views/safety_check.js',
  '/js/views/round_report.js',
  '/js/views/round_setup.js',
  '/js/views/dashboard/charts.js',
  '/js/views/dashboard/numbers.js',
  '/js/views/dashboard/period.js',
  '/js/views/dashboard/tables.js',
  '/js/views/dashboard/tiles.js',
  '/js/views/dashboard/escalated.js',
  '/js/views/dashboard/hazards.js',
  '/js/views/dashboard/drills.js',
  '/i18n/zh-CN.json',
  '/i18n/en.json',
  '/vendor/signature_pad/signature_pad.js',
  '/vendor/uplot/uPlot.esm.js',
  '/vendor/jsqr/jsQR.js',
  '/vendor/uplot/uPlot.min.css',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/maskable-192.png',
  '/icons/maskable-512.png',
];

// Only what a phone needs to read offline: a technician's list, the guard's alarms as last read, the labels
// of codes; a job's detail is kept by the page (js/device.js).
const CACHED_API = /^\/api\/v1\/(work-orders|alarms|catalogue)$/;
// Tells the page a response is an old copy, not the server's answer now.
const OFFLINE_COPY_HEADER = 'X-Offline-Copy';

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(SHELL_VERSION).then((cache) => cache.addAll(SHELL_FILES)).then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const keep = new Set([SHELL_VERSION, API_CACHE]);
      for (const name of await caches.keys()) {
        if (!keep.has(name)) await caches.delete(name);
      }
      await self.clients.claim();
      await replay().catch(() => undefined);
    })(),
  );
});

self.addEventListener('sync', (event) => {
  if (event.tag === 'outbox') event.waitUntil(replay());
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'replay') event.waitUntil(replay().catch(() => undefined));
});

async function networkFirst(request) {
  const cache = await caches.open(API_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request);
    if (!cached) throw error;
    const headers = new Headers(cached.headers);
    headers.set(OFFLINE_COPY_HEADER, '1');
    return new Response(cached.body, { status: cached.status, statusText: cached.statusText, headers });
  }
}

async function shellFirst(request) {
  const cached = await caches.match(request, { ignoreSearch: true });
  if (cached) return cached;
  return fetch(request);
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || request.method !== 'GET') return;
  if (url.pathname.startsWith('/api/')) {
    if (CACHED_API.test(url.pathname)) event.respondWith(networkFirst(request));
    return;
  }
  // the owner's page is its own online-only page: a phone that also runs the staff app must still open it
  if (request.mode === 'navigate' && url.pathname !== '/owner.html') {
    event.respondWith(caches.match('/index.html').then((cached) => cached || fetch(request)));
    return;
  }
  event.respondWith(shellFirst(request));
});

// How a push alerts with the app closed: `severity` (critical: an alarm or an emergency job) keeps the
// notification on screen until the user answers it, with a long vibration; the rest buzz once.
const VIBRATE = { critical: [600, 200, 600, 200, 600, 200, 1200], major: [400, 150, 400], minor: [300] };

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { title: event.data ? event.data.text() : '' };
  }
  const title = data.title || 'Caretaker';
  const critical = data.severity === 'critical';
  event.waitUntil(
    (async () => {
      await self.registration.showNotification(title, {
        body: data.body || '',
        tag: data.tag || undefined,
        renotify: Boolean(data.tag),
        data: { url: data.url || '/', kind: data.kind || '', severity: data.severity || '' },
        icon: '/icons/icon-192.png',
        requireInteraction: critical,
        vibrate: VIBRATE[data.severity] || VIBRATE.minor,
      });
      // An open page rings on its own from the live stream; tell it too, in case the stream is reconnecting.
      for (const client of await self.clients.matchAll({ type: 'window' })) client.postMessage({ type: 'push', data });
    })(),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = (event.notification.data && event.notification.data.url) || '/';
  event.waitUntil(
    self.clients.matchAll({ type: 'window' }).then((windows) => {
      for (const client of windows) {
        if ('focus' in client) {
          client.navigate(target);
          return client.focus();
        }
      }
      return self.clients.openWindow(target);
    }),
  );
});
