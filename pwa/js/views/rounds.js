/**
 * Rounds (巡逻) on the phone: the rounds due now and the routes to walk; on a round, scan each point's QR
 * code with the camera (BarcodeDetector where the browser has one, the vendored jsQR otherwise) or from a
 * photo, mark it normal or abnormal with a note and a photo. Scans go through the outbox with the phone's
 * time, so a round walked with no signal lands exactly once when the network returns.
 *
 * The phone knows each point by the sha256 of its QR text (qrHash), never the text itself: it can tell which
 * point it scanned while offline, but cannot make up a scan of a point it never reached.
 */

import { ApiError, getRound, listRounds, listRoutes, roundQrSheet, scanPoint, startRound, startWalk } from '../api.js';
import { esc, formatDateTime } from '../format.js';
import { t, tOr } from '../i18n.js';
import { onOutboxMessage, pendingEntries } from '../outbox.js';

const JSQR_URL = '/vendor/jsqr/jsQR.js';
const STORE_PREFIX = 'caretaker.round.';
// A finding's photo is scaled down on the phone: enough to see the fault, cheap on a weak signal.
const MAX_PHOTO_EDGE = 1600;
const JPEG_QUALITY = 0.85;

let stopListening = null;
let stream = null;

// ---- the round kept on the phone (so it opens and fills in with no signal) ----

function keep(round) {
  localStorage.setItem(STORE_PREFIX + round.id, JSON.stringify(round));
  return round;
}

function kept(id) {
  return JSON.parse(localStorage.getItem(STORE_PREFIX + id) || 'null');
}

async function loadRound(id) {
  try {
    const fresh = await getRound(id);
    const local = kept(id);
    // scans made here and not yet delivered stay on screen until the server has them
    const mine = local ? local.scans.filter((s) => s.pending && !fresh.scans.some((f) => f.checkPointId === s.checkPointId)) : [];
    return keep({ ...fresh, scans: [...fresh.scans, ...mine] });
  } catch (error) {
    const local = kept(id);
    if (local && !(error instanceof ApiError && error.status !== 404 && error.status < 500)) return local;
    throw error;
  }
}

/** A photo scaled down on the phone (JPEG): enough to see the fault, cheap on a weak signal. */
export async function shrinkPhoto(file) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, MAX_PHOTO_EDGE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', JPEG_QUALITY));
}

// ---- decoding a QR code ----

let jsqrPromise = null;

function loadJsqr() {
  if (!jsqrPromise) {
    jsqrPromise = new Promise((resolve, reject) => {
      if (window.jsQR) return resolve(window.jsQR);
      const script = document.createElement('script');
      script.src = JSQR_URL;
      script.onload = () => resolve(window.jsQR);
      script.onerror = () => reject(new Error('jsQR did not load'));
      document.head.appendChild(script);
    });
  }
  return jsqrPromise;
}

async function nativeDetector() {
  if (!('BarcodeDetector' in window)) return null;
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    return formats.includes('qr_code') ? new window.BarcodeDetector({ formats: ['qr_code'] }) : null;
  } catch {
    return null;
  }
}

/** The text of the QR code in an image (a File, a video frame or a bitmap), or null. */
async function decode(source) {
  const detector = await nativeDetector();
  if (detector) {
    const found = await detector.detect(source).catch(() => []);
    if (found.length) return found[0].rawValue;
  }
  const bitmap = source instanceof Blob ? await createImageBitmap(source) : source;
  const width = bitmap.videoWidth || bitmap.width;
  const height = bitmap.videoHeight || bitmap.height;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0, width, height);
  const jsQR = await loadJsqr();
  const code = jsQR(context.getImageData(0, 0, width, height).data, width, height);
  return code ? code.data : null;
}

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// ---- the list: rounds due now and routes to walk ----

function progress(round) {
  return `${round.scans.length}/${round.points.length}`;
}

function roundCard(round, user) {
  const mine = round.startedBy === user.id;
  const canStart = round.status === 'scheduled' || (round.status === 'in_progress' && mine);
  return `<section class="card round" data-round="${esc(round.id)}">
    <h3>${esc(round.routeName)} <span class="badge">${esc(tOr(`rounds.status.${round.status}`, round.status))}</span></h3>
    <dl class="facts">
      <dt>${esc(t('rounds.slot'))}</dt><dd>${esc(formatDateTime(round.slotStart))} – ${esc(formatDateTime(round.slotEnd))}</dd>
      <dt>${esc(t('rounds.progress'))}</dt><dd>${esc(progress(round))}</dd>
    </dl>
    ${canStart ? `<div class="actions"><button type="button" data-start="${esc(round.id)}">${esc(t(round.status === 'scheduled' ? 'rounds.start' : 'rounds.continue'))}</button></div>` : ''}
  </section>`;
}

async function renderList(root, ctx) {
  const planner = ['admin', 'manager', 'supervisor'].includes(ctx.user.role);
  root.innerHTML = `<h2>${esc(t('rounds.title'))}</h2>
    ${planner ? `<div class="actions"><a class="button secondary" href="#/rounds/report" id="rounds-report">${esc(t('roundReport.open'))}</a>
      <a class="button secondary" href="#/rounds/setup" id="rounds-setup">${esc(t('roundSetup.open'))}</a></div>` : ''}
    <div id="round-list"><p class="muted">${esc(t('app.loading'))}</p></div>
    <h2>${esc(t('rounds.walkTitle'))}</h2><p class="muted small">${esc(t('rounds.walkHint'))}</p><div id="route-list"></div>`;
  const [page, routes] = await Promise.all([listRounds().catch(() => ({ items: [] })), listRoutes().catch(() => JSON.parse(localStorage.getItem('caretaker.routes') || '[]'))]);
  localStorage.setItem('caretaker.routes', JSON.stringify(routes));
  const open = page.items.filter((r) => ['scheduled', 'in_progress'].includes(r.status));
  root.querySelector('#round-list').innerHTML = open.length
    ? open.map((r) => roundCard(r, ctx.user)).join('')
    : `<p class="card muted">${esc(t('rounds.none'))}</p>`;
  root.querySelector('#route-list').innerHTML = routes
    .map(
      (route) => `<section class="card"><h3>${esc(route.name)}</h3>
        <p class="muted">${esc(t('rounds.routeFacts', { points: route.points.length, minutes: route.expectedMinutes }))}</p>
        <div class="actions"><button type="button" class="secondary" data-walk="${esc(route.id)}">${esc(t('rounds.startWalk'))}</button>
        ${planner ? `<button type="button" class="secondary" data-sheet="${esc(route.id)}">${esc(t('rounds.qrSheet'))}</button>` : ''}</div></section>`,
    )
    .join('');
  for (const button of root.querySelectorAll('[data-start]')) {
    button.addEventListener('click', async () => {
      const round = page.items.find((r) => r.id === button.dataset.start);
      keep(round);
      if (round.status === 'scheduled') await startRound(round.id);
      ctx.go(`/rounds/${round.id}`);
    });
  }
  for (const button of root.querySelectorAll('[data-sheet]')) {
    button.addEventListener('click', async () => {
      // the printable page opens on its own, to print and stick the codes up at their points
      const page = await roundQrSheet(button.dataset.sheet);
      window.open(URL.createObjectURL(new Blob([page], { type: 'text/html' })), '_blank');
    });
  }
  for (const button of root.querySelectorAll('[data-walk]')) {
    button.addEventListener('click', async () => {
      const route = routes.find((r) => r.id === button.dataset.walk);
      const id = crypto.randomUUID();
      const now = new Date();
      keep({
        id,
        routeId: route.id,
        routeName: route.name,
        status: 'in_progress',
        slotStart: now.toISOString(),
        slotEnd: new Date(now.getTime() + route.expectedMinutes * 60000).toISOString(),
        startedBy: ctx.user.id,
        points: route.points,
        scans: [],
      });
      await startWalk(id, route.id, now.toISOString());
      ctx.go(`/rounds/${id}`);
    });
  }
}

// ---- one round: scan, mark, submit ----

function pointRow(point, scan) {
  const state = scan ? scan.result : 'waiting';
  const mark = scan ? (scan.result === 'abnormal' ? '⚠' : '✓') : '○';
  const flags = scan && scan.flags ? scan.flags.map((f) => tOr(`rounds.flag.${f}`, f)).join(' · ') : '';
  return `<li class="round-point ${esc(state)}" data-point="${esc(point.checkPointId)}" data-state="${esc(state)}">
    <span class="mark">${mark}</span>
    <span class="grow"><b>${esc(point.position)}. ${esc(point.name)}</b><br><span class="muted small">${esc(point.place)}</span>
      ${flags ? `<br><span class="small flags">${esc(flags)}</span>` : ''}</span>
    ${scan && scan.pending ? `<span class="badge">${esc(t('rounds.pending'))}</span>` : ''}</li>`;
}

function roundHtml(round) {
  const byPoint = new Map(round.scans.map((s) => [s.checkPointId, s]));
  return `<section class="card">
      <h2>${esc(round.routeName)} <span class="badge" id="round-status">${esc(tOr(`rounds.status.${round.status}`, round.status))}</span></h2>
      <p class="muted">${esc(formatDateTime(round.slotStart))} – ${esc(formatDateTime(round.slotEnd))} · <span id="round-progress">${esc(progress(round))}</span></p>
      <div class="actions">
        <button type="button" id="scan-camera">${esc(t('rounds.scanCamera'))}</button>
        <label class="button secondary" for="scan-input">${esc(t('rounds.scanPhoto'))}</label>
        <input id="scan-input" class="hidden" type="file" accept="image/*" capture="environment">
      </div>
      <p id="scan-error" class="form-error" role="alert" hidden></p>
      <video id="scan-video" class="hidden" playsinline muted></video>
    </section>
    <section class="card hidden" id="finding">
      <h3 id="finding-point"></h3>
      <div class="row" role="radiogroup">
        <label class="button secondary"><input type="radio" name="result" value="normal" checked> ${esc(t('rounds.normal'))}</label>
        <label class="button secondary"><input type="radio" name="result" value="abnormal"> ${esc(t('rounds.abnormal'))}</label>
      </div>
      <label for="finding-note">${esc(t('rounds.note'))}</label>
      <textarea id="finding-note" rows="3" maxlength="1000"></textarea>
      <div class="actions">
        <label class="button secondary" for="finding-photo">${esc(t('rounds.addPhoto'))}</label>
        <input id="finding-photo" class="hidden" type="file" accept="image/*" capture="environment">
        <span id="finding-photo-state" class="muted small"></span>
      </div>
      <div class="actions"><button type="button" id="scan-save">${esc(t('rounds.save'))}</button>
        <button type="button" class="secondary" id="scan-cancel">${esc(t('rounds.cancel'))}</button></div>
    </section>
    <ol class="card round-points" id="round-points">${round.points.map((p) => pointRow(p, byPoint.get(p.checkPointId))).join('')}</ol>`;
}

async function renderRound(root, id) {
  let round = await loadRound(id);
  root.innerHTML = roundHtml(round);
  let current = null; // {point, qr}
  let photo = null;
  const error = root.querySelector('#scan-error');
  const finding = root.querySelector('#finding');

  function showError(key) {
    error.textContent = t(key);
    error.hidden = false;
  }

  async function found(text) {
    error.hidden = true;
    if (!text) return showError('rounds.notDecoded');
    const hash = await sha256Hex(text.trim());
    const point = round.points.find((p) => p.qrHash === hash);
    if (!point) return showError('rounds.notOnRoute');
    if (round.scans.some((s) => s.checkPointId === point.checkPointId)) return showError('rounds.alreadyScanned');
    current = { point, qr: text.trim() };
    photo = null;
    root.querySelector('#finding-point').textContent = `${point.position}. ${point.name}`;
    root.querySelector('#finding-note').value = '';
    root.querySelector('#finding-photo-state').textContent = '';
    root.querySelector("input[name='result'][value='normal']").checked = true;
    finding.classList.remove('hidden');
    finding.scrollIntoView({ block: 'start' });
  }

  root.querySelector('#scan-input').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    event.target.value = '';
    if (file) await found(await decode(file).catch(() => null));
  });
  root.querySelector('#finding-photo').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    event.target.value = '';
    if (!file) return;
    photo = await shrinkPhoto(file);
    root.querySelector('#finding-photo-state').textContent = t('rounds.photoAdded');
  });
  root.querySelector('#scan-cancel').addEventListener('click', () => {
    current = null;
    finding.classList.add('hidden');
  });
  root.querySelector('#scan-camera').addEventListener('click', async () => {
    const video = root.querySelector('#scan-video');
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
    } catch {
      // no camera (or refused): the photo path does the same job
      root.querySelector('#scan-input').click();
      return;
    }
    video.srcObject = stream;
    video.classList.remove('hidden');
    await video.play();
    for (let tries = 0; stream && tries < 600; tries += 1) {
      const text = await decode(video).catch(() => null);
      if (text) {
        stopCamera(video);
        await found(text);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    stopCamera(video);
  });
  root.querySelector('#scan-save').addEventListener('click', async () => {
    if (!current) return;
    const result = root.querySelector("input[name='result']:checked").value;
    const note = root.querySelector('#finding-note').value.trim();
    if (result === 'abnormal' && !note && !photo) return showError('rounds.describeFinding');
    const clientAt = new Date().toISOString();
    const scan = { checkPointId: current.point.checkPointId, position: current.point.position, result, note, scannedAt: clientAt, flags: [], pending: true };
    round = keep({ ...round, scans: [...round.scans, scan] });
    const { qr } = current;
    current = null;
    finding.classList.add('hidden');
    draw();
    const outcome = await scanPoint(round.id, { qr, result, note, photo }, clientAt);
    photo = null;
    if (outcome.state === 'delivered') {
      round = keep({ ...outcome.body, scans: mergePending(outcome.body.scans) });
      draw();
    }
  });

  function mergePending(serverScans) {
    const waiting = round.scans.filter((s) => s.pending && !serverScans.some((f) => f.checkPointId === s.checkPointId));
    return [...serverScans, ...waiting];
  }

  function draw() {
    const byPoint = new Map(round.scans.map((s) => [s.checkPointId, s]));
    root.querySelector('#round-points').innerHTML = round.points.map((p) => pointRow(p, byPoint.get(p.checkPointId))).join('');
    root.querySelector('#round-progress').textContent = progress(round);
    root.querySelector('#round-status').textContent = tOr(`rounds.status.${round.status}`, round.status);
  }

  stopListening = onOutboxMessage(async (message) => {
    if (message.type !== 'delivered' || !navigator.onLine) return;
    const waiting = (await pendingEntries()).some((e) => e.url.includes(`/rounds/${round.id}`));
    if (!waiting) {
      round = await loadRound(round.id).catch(() => round);
      draw();
    }
  });
}

function stopCamera(video) {
  if (stream) stream.getTracks().forEach((track) => track.stop());
  stream = null;
  if (video) video.classList.add('hidden');
}

// Screens of their own under #/rounds/ for supervisors and up: the shift report and the set-up.
const SUB_VIEWS = { report: './round_report.js', setup: './round_setup.js' };

/** #/rounds: the list; #/rounds/<id>: one round; #/rounds/report, #/rounds/setup. */
export async function render(root, params, ctx) {
  if (SUB_VIEWS[params[0]]) await (await import(SUB_VIEWS[params[0]])).render(root, params.slice(1), ctx);
  else if (params[0]) await renderRound(root, params[0]);
  else await renderList(root, ctx);
}

export function unmount() {
  if (stopListening) stopListening();
  stopListening = null;
  stopCamera(null);
}
