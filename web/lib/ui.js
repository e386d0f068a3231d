// Reusable pieces of the dashboard: labelled fields with server errors, forms that map
// problem+json field errors onto their fields, badges, alerts, loading placeholders and a
// confirmation dialog.
import { h, uid, toggleIdRef, replace } from './dom.js';
import { ApiError, describeError } from './api.js';

// A labelled control with an optional hint and a slot for the server's error.
// kind: 'input' (default), 'textarea' or 'select' (options: [{value, label}]).
// Returns {root, control, setError(msg|null), name}.
export function field({ label, name, kind = 'input', type = 'text', hint, options = [], attrs = {} }) {
  const id = uid(`f-${name}`);
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  let control;
  if (kind === 'textarea') {
    control = h('textarea', { id, name, rows: 3, ...attrs });
  } else if (kind === 'select') {
    control = h('select', { id, name, ...attrs },
      options.map((o) => h('option', { value: o.value }, o.label)));
  } else {
    control = h('input', { id, name, type, ...attrs });
  }
  const hintEl = hint ? h('p', { class: 'field-hint', id: hintId }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintId);
  const errorEl = h('p', { class: 'field-error', id: errorId, hidden: true });
  const labelEl = h('label', { for: id }, label);
  const root = h('div', { class: 'field', dataset: { field: name } }, labelEl, control, hintEl, errorEl);

  function setError(message) {
    const on = Boolean(message);
    errorEl.hidden = !on;
    errorEl.textContent = on ? message : '';
    root.classList.toggle('has-error', on);
    if (on) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
    toggleIdRef(control, 'aria-describedby', errorId, on);
  }
  function setHint(text) {
    if (hintEl) hintEl.textContent = text;
  }
  function setLabel(text) {
    labelEl.textContent = text;
  }
  return { root, control, setError, setHint, setLabel, name, label };
}

// An alert area for a form: role=alert so a failed save is announced.
export function formAlert() {
  const el = h('div', { class: 'alert alert-error', role: 'alert', hidden: true, tabindex: '-1' });
  return {
    root: el,
    show(message, extra = []) {
      replace(el, h('p', {}, message), extra.length ? h('ul', {}, extra.map((t) => h('li', {}, t))) : null);
      el.hidden = false;
    },
    clear() {
      el.hidden = true;
      el.replaceChildren();
    },
  };
}

// Shows an ApiError on a form: field errors next to their fields (first one focused),
// everything else in the alert. `fields` is {name: field()}; `aliases` maps server field
// names to ours.
export function showFormError(err, { fields, alert, aliases = {} }) {
  for (const f of Object.values(fields)) f.setError(null);
  alert.clear();
  if (!(err instanceof ApiError)) {
    alert.show(describeError(err));
    return;
  }
  let first = null;
  const others = [];
  for (const [serverName, message] of Object.entries(err.fields)) {
    const last = serverName.split(/[./]/).pop();
    const f = fields[aliases[serverName] ?? serverName] ?? fields[aliases[last] ?? last];
    if (f && !f.root.hidden) {
      // Server messages written to follow the field name ("is not a valid email address")
      // get the field's label in front.
      const text = /^[a-z]/.test(String(message ?? '')) ? `${f.label} ${message}` : message;
      f.setError(sentence(text));
      first ??= f;
    } else {
      others.push(`${serverName}: ${message}`);
    }
  }
  if (!first || others.length) {
    alert.show(first ? 'Some values need attention.' : describeError(err), others);
  }
  if (first) first.control.focus();
  else alert.root.focus();
}

export function clearFormErrors({ fields, alert }) {
  for (const f of Object.values(fields)) f.setError(null);
  alert.clear();
}

function sentence(text) {
  const t = String(text ?? '').trim();
  if (!t) return 'Invalid value.';
  const s = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

// Status badge. tone: ok | warn | error | neutral | info.
export function badge(text, tone = 'neutral', attrs = {}) {
  return h('span', { class: `badge badge-${tone}`, ...attrs }, text);
}

const MESSAGE_TONES = {
  queued: 'neutral',
  sending: 'info',
  retrying: 'warn',
  sent: 'ok',
  delivered: 'ok',
  bounced: 'error',
  failed: 'error',
  suppressed: 'warn',
  deferred: 'warn',
  complained: 'error',
};
export const MESSAGE_STATUSES = Object.keys(MESSAGE_TONES);
export const TERMINAL_STATUSES = new Set(['sent', 'delivered', 'bounced', 'failed', 'suppressed', 'deferred', 'complained']);

export function statusLabel(status) {
  return status ? status.charAt(0).toUpperCase() + status.slice(1) : 'Unknown';
}
export function messageStatusBadge(status) {
  return badge(statusLabel(status), MESSAGE_TONES[status] ?? 'neutral');
}

// Integration badge: Connected / Not connected / Failing / Inactive.
export function integrationBadge(integration, attrs = {}) {
  const status = typeof integration === 'string' ? integration : integration?.status;
  if (!status) return badge('Not connected', 'neutral', attrs);
  if (status === 'connected') return badge('Connected', 'ok', attrs);
  if (status === 'failing') return badge('Failing', 'error', attrs);
  if (status === 'inactive') return badge('Inactive', 'warn', attrs);
  return badge(statusLabel(status), 'neutral', attrs);
}

// Whether deliveries, bounces and opens come back from the provider, in words.
export function trackingText(t) {
  switch (t.status) {
    case 'on': return t.setUpBy === 'you' ? 'On (you set up the webhook)' : 'On';
    case 'settingUp': return t.reason ? `Setting up: ${t.reason}` : 'Setting up…';
    case 'failing': return `Not working: ${t.reason ?? 'the provider refused the webhook'}`;
    default: return t.reason ? `Off: ${t.reason.charAt(0).toUpperCase()}${t.reason.slice(1)}.` : 'Off';
  }
}

// A provider's name as its vendor spells it, from what the server sent with it (a route, an
// integration or a provider description), else its id.
export function providerName(item) {
  if (!item) return '';
  if (typeof item === 'string') return item;
  return item.providerName ?? item.name ?? item.provider ?? item.id ?? '';
}

// A loading placeholder with a fixed height so the page does not jump when data arrives.
export function skeleton(lines = 3, { label = 'Loading…' } = {}) {
  return h('div', { class: 'skeleton', role: 'status', 'aria-live': 'polite' },
    h('span', { class: 'visually-hidden' }, label),
    Array.from({ length: lines }, (_, i) => h('div', { class: `skeleton-line${i % 3 === 2 ? ' short' : ''}`, 'aria-hidden': 'true' })));
}

// A table in a box that scrolls sideways on narrow screens. The box is a labelled region the
// keyboard can reach, so its hidden columns can be scrolled into view without a mouse.
export function tableWrap(label, table) {
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': label }, table);
}

// A full-width error with a retry button.
export function errorState(err, retry) {
  return h('div', { class: 'alert alert-error', role: 'alert' },
    h('p', {}, describeError(err)),
    retry ? h('button', { type: 'button', class: 'btn btn-secondary', onclick: retry }, 'Try again') : null);
}

// An empty state.
export function emptyState(title, text, action = null) {
  return h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, title), text ? h('p', {}, text) : null, action);
}

// A modal confirmation (native <dialog>, focus trapped by the browser, Escape cancels).
// Resolves true when the confirm button was pressed.
export function confirmDialog({ title, text, confirmLabel, tone = 'danger' }) {
  return new Promise((resolve) => {
    const titleId = uid('dlg-title');
    const textId = uid('dlg-text');
    const cancel = h('button', { type: 'button', class: 'btn btn-secondary', value: 'cancel' }, 'Cancel');
    const ok = h('button', { type: 'button', class: `btn btn-${tone === 'danger' ? 'danger' : 'primary'}` }, confirmLabel);
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId, 'aria-describedby': textId },
      h('h2', { id: titleId }, title),
      h('p', { id: textId }, text),
      h('div', { class: 'actions' }, cancel, ok));
    let result = false;
    const opener = document.activeElement;
    cancel.addEventListener('click', () => dialog.close());
    ok.addEventListener('click', () => {
      result = true;
      dialog.close();
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

// Announces a short message politely (screen readers) and shows it as a toast.
export function announce(text, tone = 'ok') {
  const region = document.getElementById('toast');
  if (!region) return;
  const item = h('div', { class: `toast toast-${tone}` }, text);
  region.append(item);
  while (region.children.length > 2) region.firstElementChild.remove();
  setTimeout(() => item.remove(), 5000);
}

// Page heading that receives focus after client-side navigation.
export function pageHeader(title, { subtitle, actions } = {}) {
  return h('header', { class: 'page-header' },
    h('div', {},
      h('h1', { tabindex: '-1', class: 'page-title' }, title),
      subtitle ? h('p', { class: 'page-subtitle' }, subtitle) : null),
    actions ? h('div', { class: 'page-actions' }, actions) : null);
}
