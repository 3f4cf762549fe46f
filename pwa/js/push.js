/** Web Push: offered after login; a refusal or a browser without a push service is not an error. */

import { savePushSubscription, vapidPublicKey } from './api.js';

function keyBytes(base64url) {
  const padded = base64url.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(base64url.length / 4) * 4, '=');
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

/** Try to subscribe this device for pushes; resolves to 'subscribed', 'denied' or 'unavailable'. */
export async function offerPush() {
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) return 'unavailable';
  try {
    const permission = Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
    if (permission !== 'granted') return 'denied';
    const registration = await navigator.serviceWorker.ready;
    const existing = await registration.pushManager.getSubscription();
    const subscription =
      existing ||
      (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(await vapidPublicKey()) }));
    await savePushSubscription(subscription.toJSON());
    return 'subscribed';
  } catch {
    // Headless browsers and browsers without a vendor push service end here; alarms still arrive on the stream.
    return 'unavailable';
  }
}
