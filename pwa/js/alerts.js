/**
 * Alerts that cannot be missed: a tone (WebAudio) and a vibration, once or again and again until stopped.
 *
 * Each ringing alert has a key (`alarm:<id>`, `job:<id>`); it rings every RING_EVERY_MS until stopRinging(key)
 * (the alarm acknowledged, the job accepted). Browsers only let a page play sound after a tap: the guard's and
 * technician's "enable alerts" button calls unlockAudio(); vibration and the on-screen takeover work anyway.
 * The state is readable at window.caretakerAlerts (what rings, how many times it rang) for the screen itself
 * and for tests.
 */

const RING_EVERY_MS = 2500;
const TONES = {
  // a high two-tone siren for alarms, a rising pair for jobs, a low pulse for an escalation
  alarm: { notes: [880, 660, 880, 660], noteMs: 180, vibrate: [400, 150, 400, 150, 800] },
  job: { notes: [660, 990], noteMs: 220, vibrate: [300, 120, 300] },
  escalation: { notes: [440, 440, 880], noteMs: 250, vibrate: [800, 200, 800] },
};

let audio = null;
const ringing = new Map();
const state = { rings: 0, ringing: [], lastTone: null };
window.caretakerAlerts = state;

function publishState() {
  state.ringing = [...ringing.keys()];
}

/** Create (or resume) the audio context from a user gesture so later alerts can sound. */
export function unlockAudio() {
  try {
    audio = audio || new AudioContext();
    if (audio.state === 'suspended') audio.resume();
  } catch {
    // no audio device: vibration and the screen carry the alert
  }
}

function playTone(name) {
  const tone = TONES[name] || TONES.alarm;
  state.rings += 1;
  state.lastTone = name;
  if (navigator.vibrate) navigator.vibrate(tone.vibrate);
  try {
    audio = audio || new AudioContext();
    const start = audio.currentTime;
    tone.notes.forEach((frequency, i) => {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.type = 'square';
      oscillator.frequency.value = frequency;
      gain.gain.value = 0.25;
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(start + (i * tone.noteMs) / 1000);
      oscillator.stop(start + ((i + 1) * tone.noteMs) / 1000);
    });
  } catch {
    // audio not allowed yet (no tap on this page): the vibration above and the screen still alert
  }
}

/** Ring and vibrate once (a new job, a minor alarm, an escalation). */
export function ringOnce(name = 'alarm') {
  playTone(name);
}

/** Ring now and every few seconds until stopRinging(key); ringing an already ringing key changes nothing. */
export function ringUntilStopped(key, name = 'alarm') {
  if (ringing.has(key)) return;
  playTone(name);
  ringing.set(key, setInterval(() => playTone(name), RING_EVERY_MS));
  publishState();
}

/** Stop one ringing alert. */
export function stopRinging(key) {
  clearInterval(ringing.get(key));
  ringing.delete(key);
  publishState();
}

/** Stop every ringing alert whose key starts with `prefix` and is not in `keep`. */
export function stopRingingExcept(prefix, keep) {
  for (const key of [...ringing.keys()]) {
    if (key.startsWith(prefix) && !keep.has(key)) stopRinging(key);
  }
}

/** Whether this alert is still ringing. */
export function isRinging(key) {
  return ringing.has(key);
}
