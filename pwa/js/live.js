/**
 * The live stream (Server-Sent Events) without the bearer token in any URL.
 *
 * EventSource cannot send an Authorization header, so every connection first asks the API for a single-use
 * ticket (POST /stream/tickets, with the token) and opens /stream?ticket=…. A ticket works once, which rules
 * out the browser's own reconnect (it reuses the URL): on any error this module closes the EventSource and
 * opens a new one with a fresh ticket and the last event id it saw, backing off while the server is away.
 * The server ends a stream with `stream.closed`: `signed_out` (the session ended: logged out elsewhere,
 * password changed, account switched off) sends the user to the login screen; `access_changed` (role or
 * sites changed) reopens at once with the new rights.
 */

import { streamTicket, streamUrl } from './api.js';

// The server's `retry:` hint; doubled after each failure up to the maximum while the server is away.
const RETRY_MIN_MS = 2000;
const RETRY_MAX_MS = 30000;

/**
 * Open the stream. `handlers` maps event types (`alarm.raised`, `work_order.updated`…) to functions of the
 * MessageEvent; `onState` hears 'connecting' | 'live' | 'reconnecting' | 'signed-out'.
 * Returns {close()}.
 */
export function openLiveStream({ handlers, onState = () => {} }) {
  let source = null;
  let lastEventId = null;
  let stopped = false;
  let delay = RETRY_MIN_MS;
  let timer = null;

  function drop() {
    if (source) source.close();
    source = null;
  }

  function retryLater() {
    drop();
    if (stopped) return;
    onState('reconnecting');
    clearTimeout(timer);
    timer = setTimeout(connect, delay);
    delay = Math.min(delay * 2, RETRY_MAX_MS);
  }

  function signedOut({ announce }) {
    stopped = true;
    drop();
    onState('signed-out');
    if (announce) window.dispatchEvent(new CustomEvent('auth-required'));
  }

  async function connect() {
    if (stopped) return;
    if (!navigator.onLine) {
      onState('reconnecting');
      window.addEventListener('online', connect, { once: true });
      return;
    }
    onState('connecting');
    let ticket;
    try {
      ticket = await streamTicket();
    } catch (error) {
      // A 401 has already asked for a new login (api.js); anything else is the network or a busy server.
      if (error.status === 401) signedOut({ announce: false });
      else retryLater();
      return;
    }
    if (stopped) return;
    const opened = new EventSource(streamUrl(ticket, lastEventId));
    source = opened;
    opened.onopen = () => {
      delay = RETRY_MIN_MS;
      onState('live');
    };
    opened.onerror = () => {
      if (source === opened) retryLater();
    };
    opened.addEventListener('stream.closed', (event) => {
      let reason = '';
      try {
        reason = JSON.parse(event.data).reason;
      } catch {
        // an unreadable reason is treated like a changed access: reopen and let the server decide
      }
      if (reason === 'signed_out') {
        signedOut({ announce: true });
        return;
      }
      drop();
      delay = RETRY_MIN_MS;
      connect();
    });
    for (const [type, handler] of Object.entries(handlers)) {
      opened.addEventListener(type, (event) => {
        if (event.lastEventId) lastEventId = event.lastEventId;
        handler(event);
      });
    }
  }

  connect();
  return {
    close() {
      stopped = true;
      clearTimeout(timer);
      window.removeEventListener('online', connect);
      drop();
    },
  };
}
