// The message log: newest first, filtered by channel and status, with each message's
// recipient, route, payer, status and attempts. Refreshes itself while messages are in flight.
import { h, replace, busy, timeEl, formatNumber } from '../lib/dom.js';
import { api, describeError } from '../lib/api.js';
import {
  field, pageHeader, skeleton, errorState, emptyState, messageStatusBadge, MESSAGE_STATUSES,
  TERMINAL_STATUSES, statusLabel, tableWrap,
} from '../lib/ui.js';
import { routeCell, payerLabel, channelLabel, templateLabel } from '../lib/messages.js';

const PAGE = 25;
const POLL_ACTIVE_MS = 3000;
const POLL_IDLE_MS = 15000;

export async function render(main, ctx) {
  ctx.setTitle('Messages');
  const agentId = ctx.agentId;

  const channel = field({ label: 'Channel', name: 'channel', kind: 'select', options: [
    { value: '', label: 'All channels' }, { value: 'email', label: 'Email' }, { value: 'sms', label: 'SMS' }] });
  const status = field({ label: 'Status', name: 'status', kind: 'select', options: [
    { value: '', label: 'All statuses' }, ...MESSAGE_STATUSES.map((s) => ({ value: s, label: statusLabel(s) }))] });
  channel.control.value = ctx.query.get('channel') ?? '';
  status.control.value = ctx.query.get('status') ?? '';

  const refreshButton = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Refresh');
  const summary = h('p', { class: 'results-summary', role: 'status', 'aria-live': 'polite' });
  const results = h('div', { class: 'results' }, skeleton(6, { label: 'Loading messages…' }));
  const more = h('button', { type: 'button', class: 'btn btn-secondary', hidden: true }, 'Load more');

  let items = [];
  let nextCursor = null;
  let timer = null;
  let inflight = null;
  ctx.onLeave(() => {
    clearTimeout(timer);
    inflight?.abort();
  });

  function filters() {
    return { channel: channel.control.value, status: status.control.value };
  }

  // Loads the first page (or, when refreshing, as many rows as are shown).
  async function load({ quiet = false } = {}) {
    clearTimeout(timer);
    inflight?.abort();
    const controller = new AbortController();
    inflight = controller;
    if (!quiet) {
      replace(results, skeleton(6, { label: 'Loading messages…' }));
      summary.textContent = '';
    }
    try {
      const limit = quiet ? Math.min(Math.max(items.length, PAGE), 200) : PAGE;
      const page = await api.messages.list(agentId, { ...filters(), limit }, { signal: controller.signal });
      items = page.items ?? [];
      nextCursor = page.nextCursor ?? null;
      draw();
    } catch (err) {
      if (err?.name === 'AbortError') return;
      if (!quiet) replace(results, errorState(err, () => load()));
      else summary.textContent = `Could not refresh: ${describeError(err)}`;
    }
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    const active = items.some((m) => !TERMINAL_STATUSES.has(m.status));
    timer = setTimeout(() => {
      if (document.visibilityState === 'visible') load({ quiet: true });
      else schedule();
    }, active ? POLL_ACTIVE_MS : POLL_IDLE_MS);
  }

  function draw() {
    const f = filters();
    const filtered = f.channel || f.status;
    summary.textContent = items.length
      ? `${formatNumber(items.length)}${nextCursor ? '+' : ''} message${items.length === 1 ? '' : 's'}${filtered ? ' matching the filters' : ''}, newest first.`
      : '';
    more.hidden = !nextCursor;
    if (!items.length) {
      replace(results, filtered
        ? emptyState('No messages match these filters.', 'Try another channel or status.')
        : emptyState('No messages yet.', 'When the platform reports a new listing, the seller’s welcome email and SMS appear here.'));
      return;
    }
    // Keep focus on the same row's link across a refresh.
    const focusedId = document.activeElement?.closest?.('tr')?.dataset?.id;
    const table = h('table', { class: 'table messages-table' },
      h('caption', { class: 'visually-hidden' }, 'Messages, newest first'),
      h('thead', {}, h('tr', {},
        ['Recipient', 'Message', 'Route', 'Paid by', 'Status', 'Attempts', 'Created'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, items.map(row)));
    replace(results, tableWrap('Messages', table));
    if (focusedId) table.querySelector(`tr[data-id="${CSS.escape(focusedId)}"] a`)?.focus();
  }

  function row(m) {
    const href = `/app/messages/${encodeURIComponent(m.id)}`;
    const recipientName = m.toName ? m.toName : m.to;
    return h('tr', { dataset: { id: m.id, status: m.status } },
      h('td', { 'data-label': 'Recipient' },
        h('a', { href, class: 'row-link' }, recipientName),
        m.toName ? h('span', { class: 'cell-sub' }, m.to) : null),
      h('td', { 'data-label': 'Message' },
        h('span', {}, templateLabel(m)),
        h('span', { class: 'cell-sub' }, channelLabel(m.channel))),
      h('td', { 'data-label': 'Route' }, routeCell(m.route)),
      h('td', { 'data-label': 'Paid by' }, payerLabel(m.payer ?? m.route?.payer)),
      h('td', { 'data-label': 'Status' }, messageStatusBadge(m.status),
        m.lastError && m.status !== 'sent' && m.status !== 'delivered'
          ? h('span', { class: 'cell-sub cell-error' }, m.lastError) : null,
        m.status === 'retrying' && m.nextAttemptAt
          ? h('span', { class: 'cell-sub' }, 'Next try ', timeEl(m.nextAttemptAt)) : null),
      h('td', { 'data-label': 'Attempts', class: 'num' }, String(m.attempts ?? 0)),
      h('td', { 'data-label': 'Created' }, timeEl(m.createdAt)));
  }

  more.addEventListener('click', () => busy(more, async () => {
    try {
      const page = await api.messages.list(agentId, { ...filters(), limit: PAGE, cursor: nextCursor });
      items = items.concat(page.items ?? []);
      nextCursor = page.nextCursor ?? null;
      draw();
    } catch (err) {
      summary.textContent = `Could not load more: ${describeError(err)}`;
    }
  }));

  // Filters apply at once and are kept in the address.
  function onFilter() {
    const url = new URL(location.href);
    for (const [k, v] of Object.entries(filters())) {
      if (v) url.searchParams.set(k, v);
      else url.searchParams.delete(k);
    }
    history.replaceState(null, '', url.pathname + url.search);
    load();
  }
  channel.control.addEventListener('change', onFilter);
  status.control.addEventListener('change', onFilter);
  refreshButton.addEventListener('click', () => busy(refreshButton, () => load({ quiet: true })));

  replace(main,
    pageHeader('Messages', { subtitle: 'Every email and SMS sent for you, newest first.', actions: refreshButton }),
    h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter messages', onsubmit: (e) => e.preventDefault() },
      channel.root, status.root),
    summary,
    results,
    h('div', { class: 'load-more' }, more));
  await load();
}
