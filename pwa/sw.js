/**
 * Caretaker's service worker: the app shell from a versioned cache, the technician's job list and opened
 * jobs network-first with a cached fallback, and the outbox replayed on `sync` and at start.
 *
 * Registered as a module worker so it shares js/outbox.js with the page. Mutations are never cached:
 * they go through the outbox. Served with Cache-Control: no-cache so a new version is picked up at once.
 */

import { replay } from './js/outbox.js';

// Bump on every change to a file below: the old shell cache is deleted on activate.
const SHELL_VERSION = 'shell-v19';
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
  '/js/i18n.js',
  '/js/format.js',
  '/js/push.js',
  '/js/live.js',
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
  '/js/views/dashboard.js',
  '/js/views/dashboard/charts.js',
  '/js/views/dashboard/numbers.js',
  '/js/views/dashboard/period.js',
  '/js/views/dashboard/tables.js',
  '/js/views/dashboard/tiles.js',
  '/js/views/dashboard/escalated.js',
  '/i18n/zh-CN.json',
  '/i18n/en.json',
  '/vendor/signature_pad/signature_pad.js',
  '/vendor/uplot/uPlot.esm.js',
  '/vendor/uplot/uPlot.min.css',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/maskable-192.png',
  '/icons/maskable-512.png',
];

// Only what a technician needs to read offline: their list, the jobs they opened, the labels of codes.
const CACHED_API = /^\/api\/v1\/(work-orders(\/[0-9a-f-]{36})?|catalogue)$/;

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
    if (cached) return cached;
    throw error;
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
  if (request.mode === 'navigate') {
    event.respondWith(caches.match('/index.html').then((cached) => cached || fetch(request)));
    return;
  }
  event.respondWith(shellFirst(request));
});

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { title: event.data ? event.data.text() : '' };
  }
  const title = data.title || 'Caretaker';
  event.waitUntil(
    self.registration.showNotification(title, {
      body: data.body || '',
      tag: data.tag || undefined,
      data: { url: data.url || '/' },
      icon: '/icons/icon-192.png',
      requireInteraction: data.severity === 'critical',
    }),
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
