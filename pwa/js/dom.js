/** Redrawing a list in place, and a button pressed once at a time.
 *
 * A screen fed by a live stream redraws often. Replacing a whole list with innerHTML swaps every button
 * out from under a finger mid-tap; here only the entries whose markup changed are replaced, the rest stay
 * the very same elements (their focus, their half-typed text, the tap in progress). Listen on the list
 * itself (event delegation): its entries come and go. */

// element → the markup it was made from
const madeFrom = new WeakMap();

function element(key, html) {
  const template = document.createElement('template');
  template.innerHTML = html.trim();
  const made = template.content.firstElementChild;
  made.dataset.key = key;
  madeFrom.set(made, html);
  return made;
}

/** Make `container` hold one element per `[key, html]` entry, in order; each html has one root element. */
export function drawKeyed(container, entries) {
  const shown = new Map([...container.children].map((el) => [el.dataset.key, el]));
  const wanted = entries.map(([key, html]) => {
    const el = shown.get(key);
    return el && madeFrom.get(el) === html ? el : element(key, html);
  });
  const keep = new Set(wanted);
  for (const el of [...container.children]) if (!keep.has(el)) el.remove();
  let cursor = container.firstElementChild;
  for (const el of wanted) {
    if (el === cursor) cursor = cursor.nextElementSibling;
    else container.insertBefore(el, cursor);
  }
}

/** Run `action` for a tapped button, disabled meanwhile; usable again after unless it was redrawn away. */
export async function press(button, action) {
  button.disabled = true;
  try {
    await action();
  } finally {
    if (button.isConnected) button.disabled = false;
  }
}
