// API tokens: the agent creates a named token (shown once), sees the list with hints and
// last use, and revokes tokens.
import { h, replace, busy, timeEl } from '../lib/dom.js';
import { api, describeError } from '../lib/api.js';
import {
  field, formAlert, showFormError, clearFormErrors, pageHeader, skeleton, errorState, emptyState,
  confirmDialog, announce, tableWrap,
} from '../lib/ui.js';

export async function render(main, ctx) {
  ctx.setTitle('API tokens');
  const agentId = ctx.agentId;

  const name = field({ label: 'Token name', name: 'name', hint: 'So you can tell your tokens apart, e.g. “CRM sync”.',
    attrs: { autocomplete: 'off', maxlength: 100 } });
  const alert = formAlert();
  const create = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create token');
  const reveal = h('div', { class: 'token-reveal', hidden: true, tabindex: '-1' });
  const list = h('div', { class: 'token-list' }, skeleton(3, { label: 'Loading tokens…' }));
  const listStatus = h('p', { class: 'visually-hidden', role: 'status' });

  const form = h('form', { class: 'inline-form', novalidate: true, 'aria-label': 'Create an API token' },
    name.root, h('div', { class: 'form-actions' }, create));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFormErrors({ fields: { name }, alert });
    const value = name.control.value.trim();
    if (!value) {
      name.setError('Give the token a name.');
      name.control.focus();
      return;
    }
    await busy(create, async () => {
      try {
        const created = await api.tokens.create(agentId, value);
        name.control.value = '';
        showToken(created);
        await loadList();
      } catch (err) {
        showFormError(err, { fields: { name }, alert });
      }
    });
  });

  // The new token, once, with a copy button.
  function showToken(created) {
    const input = h('input', { type: 'text', readonly: true, class: 'token-value', id: 'new-token-value',
      value: created.token, 'aria-describedby': 'new-token-note', spellcheck: 'false' });
    const copyStatus = h('span', { class: 'inline-status', role: 'status' });
    const copy = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Copy');
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(created.token);
        copyStatus.textContent = 'Copied.';
      } catch {
        input.select();
        copyStatus.textContent = 'Press Ctrl+C (⌘C) to copy.';
      }
    });
    const done = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Done');
    done.addEventListener('click', () => {
      reveal.hidden = true;
      reveal.replaceChildren();
      name.control.focus();
    });
    replace(reveal,
      h('div', { class: 'alert alert-ok' },
        h('p', { class: 'token-reveal-title' }, `Token “${created.name}” created`),
        h('p', { id: 'new-token-note' }, 'Copy it now: it is shown only once. Send it as Authorization: Bearer <token>.'),
        h('label', { for: 'new-token-value', class: 'visually-hidden' }, 'New API token'),
        h('div', { class: 'token-row' }, input, copy),
        h('div', { class: 'form-actions' }, done, copyStatus)));
    reveal.hidden = false;
    input.focus();
    input.select();
  }

  async function loadList() {
    try {
      const { items = [] } = await api.tokens.list(agentId);
      if (!items.length) {
        replace(list, emptyState('No API tokens yet.', 'Create one to call the Herald API from your own tools.'));
        return;
      }
      replace(list, tableWrap('Your API tokens', h('table', { class: 'table tokens-table' },
        h('caption', { class: 'visually-hidden' }, 'Your API tokens'),
        h('thead', {}, h('tr', {}, ['Name', 'Token', 'Created', 'Last used', ''].map((c, i) =>
          h('th', { scope: 'col' }, c || h('span', { class: 'visually-hidden' }, i === 4 ? 'Actions' : ''))))),
        h('tbody', {}, items.map((t) => {
          const revoke = h('button', { type: 'button', class: 'btn btn-danger-outline btn-small', 'aria-label': `Revoke ${t.name}` }, 'Revoke');
          revoke.addEventListener('click', () => onRevoke(t, revoke));
          return h('tr', { dataset: { id: t.id } },
            h('td', { 'data-label': 'Name' }, t.name),
            h('td', { 'data-label': 'Token' }, h('code', {}, t.hint ? `…${String(t.hint).replace(/^…/, '')}` : '—')),
            h('td', { 'data-label': 'Created' }, timeEl(t.createdAt)),
            h('td', { 'data-label': 'Last used' }, t.lastUsedAt ? timeEl(t.lastUsedAt) : h('span', { class: 'muted' }, 'Never')),
            h('td', { class: 'actions-cell' }, revoke));
        })))));
    } catch (err) {
      replace(list, errorState(err, () => loadList()));
    }
  }

  async function onRevoke(t, button) {
    const ok = await confirmDialog({
      title: `Revoke “${t.name}”?`,
      text: 'Anything using this token stops working at once. This cannot be undone.',
      confirmLabel: 'Revoke',
    });
    if (!ok) return;
    await busy(button, async () => {
      try {
        await api.tokens.revoke(agentId, t.id);
        announce(`Token “${t.name}” revoked.`);
        listStatus.textContent = `Token ${t.name} revoked.`;
        await loadList();
        name.control.focus();
      } catch (err) {
        announce(describeError(err), 'error');
      }
    });
  }

  replace(main,
    pageHeader('API tokens', { subtitle: 'Let your own tools call the Herald API for your account.' }),
    h('section', { class: 'card', 'aria-labelledby': 'create-token-title' },
      h('h2', { class: 'card-title', id: 'create-token-title' }, 'Create a token'),
      alert.root, form, reveal),
    h('section', { class: 'card', 'aria-labelledby': 'tokens-title' },
      h('h2', { class: 'card-title', id: 'tokens-title' }, 'Your tokens'),
      listStatus,
      list));
  await loadList();
}
