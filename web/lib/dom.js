// Small DOM helpers. Everything the dashboard shows is built with these (text nodes, never
// innerHTML), so data from the API can never become markup.

// h('button', {class: 'btn', onclick: fn, 'aria-label': 'x'}, 'text', child, [more])
// Attributes: `class`, `for`, `dataset`, on* listeners, boolean attributes (true/false),
// `hidden`; anything else goes through setAttribute. null/undefined/false children are skipped.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'class') {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'value' && ('value' in el)) {
      el.value = value;
    } else if (key === 'checked' || key === 'selected' || key === 'disabled' || key === 'hidden') {
      el[key] = Boolean(value);
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

// Appends children (strings, nodes, arrays of them); skips null/undefined/false.
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Replaces all children of `el`.
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// A unique id for label/aria wiring.
let counter = 0;
export function uid(prefix = 'id') {
  counter += 1;
  return `${prefix}-${counter}`;
}

// Adds or removes one id in a space-separated ARIA id list attribute.
export function toggleIdRef(el, attr, id, on) {
  const ids = new Set((el.getAttribute(attr) ?? '').split(/\s+/).filter(Boolean));
  if (on) ids.add(id);
  else ids.delete(id);
  if (ids.size) el.setAttribute(attr, [...ids].join(' '));
  else el.removeAttribute(attr);
}

// Marks a button busy while `work` runs: disabled, aria-busy, spinner (CSS), same size.
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.classList.add('is-busy');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.classList.remove('is-busy');
  }
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateTimeSeconds = new Intl.DateTimeFormat(undefined, {
  dateStyle: 'medium',
  timeStyle: 'medium',
});
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

// "12 Mar 2025, 14:05" (or with seconds); '' for missing values.
export function formatTime(iso, { seconds = false } = {}) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return (seconds ? dateTimeSeconds : dateTime).format(d);
}

// "3 minutes ago" for recent times, else the date.
export function formatAgo(iso, now = Date.now()) {
  if (!iso) return '';
  const d = new Date(iso);
  const diff = (d.getTime() - now) / 1000;
  if (Number.isNaN(diff)) return String(iso);
  const abs = Math.abs(diff);
  if (abs < 45) return diff <= 0 ? 'just now' : 'in a moment';
  if (abs < 3600) return relative.format(Math.round(diff / 60), 'minute');
  if (abs < 86400) return relative.format(Math.round(diff / 3600), 'hour');
  if (abs < 7 * 86400) return relative.format(Math.round(diff / 86400), 'day');
  return formatTime(iso);
}

// A <time> element showing a relative time with the exact time as its title.
export function timeEl(iso, { ago = true } = {}) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: iso, title: formatTime(iso, { seconds: true }) },
    ago ? formatAgo(iso) : formatTime(iso));
}

const numberFormat = new Intl.NumberFormat();
export function formatNumber(n) {
  return numberFormat.format(n ?? 0);
}
