// Admin (operator): every agent with the state of their integrations, and usage per agent
// for a date range — messages sent through the agent's own accounts versus the platform's.
import { h, replace, busy, formatNumber, timeEl } from '../lib/dom.js';
import { api, describeError } from '../lib/api.js';
import {
  field, formAlert, showFormError, clearFormErrors, pageHeader, skeleton, errorState, emptyState,
  integrationBadge, badge, trackingText, tableWrap,
} from '../lib/ui.js';

const PAGE = 50;

export async function render(main, ctx) {
  ctx.setTitle('Admin');

  // ---- usage ----
  const today = new Date();
  const monthAgo = new Date(today.getTime() - 29 * 86400000);
  const from = field({ label: 'From', name: 'from', type: 'date', attrs: { required: true } });
  const to = field({ label: 'To', name: 'to', type: 'date', attrs: { required: true } });
  from.control.value = ctx.query.get('from') ?? isoDate(monthAgo);
  to.control.value = ctx.query.get('to') ?? isoDate(today);
  const usageAlert = formAlert();
  const show = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Show usage');
  const usage = h('div', { class: 'usage' }, skeleton(4, { label: 'Loading usage…' }));
  const usageForm = h('form', { class: 'filters', novalidate: true, 'aria-label': 'Usage date range' },
    from.root, to.root, h('div', { class: 'form-actions' }, show));

  async function loadUsage() {
    clearFormErrors({ fields: { from, to }, alert: usageAlert });
    const range = { from: from.control.value, to: to.control.value };
    if (!range.from || !range.to) {
      (range.from ? to : from).setError('Pick a date.');
      return;
    }
    if (range.from > range.to) {
      to.setError('The end date is before the start date.');
      to.control.focus();
      return;
    }
    const url = new URL(location.href);
    url.searchParams.set('from', range.from);
    url.searchParams.set('to', range.to);
    history.replaceState(null, '', url.pathname + url.search);
    try {
      drawUsage(await api.admin.usage(range));
    } catch (err) {
      if (err.fields && Object.keys(err.fields).length) showFormError(err, { fields: { from, to }, alert: usageAlert });
      else replace(usage, errorState(err, () => loadUsage()));
    }
  }

  function drawUsage(data) {
    const items = data.items ?? [];
    if (!items.length) {
      replace(usage, emptyState('No messages in this period.', `Nothing was sent between ${data.from} and ${data.to}.`));
      return;
    }
    const t = data.totals ?? {};
    const platformShare = (u) => {
      const total = (u.email?.viaAgent ?? 0) + (u.email?.viaPlatform ?? 0) + (u.sms?.viaAgent ?? 0) + (u.sms?.viaPlatform ?? 0);
      const platform = (u.email?.viaPlatform ?? 0) + (u.sms?.viaPlatform ?? 0);
      return total ? platform / total : 0;
    };
    const bar = (u) => {
      const share = platformShare(u);
      const fill = h('span', { class: 'share-fill' });
      fill.style.width = `${Math.round(share * 100)}%`;
      return h('span', { class: 'share', title: `${Math.round(share * 100)}% via the platform` },
        h('span', { class: 'share-bar', 'aria-hidden': 'true' }, fill),
        h('span', { class: 'share-text' }, `${Math.round(share * 100)}%`));
    };
    const n = (v) => formatNumber(v ?? 0);
    replace(usage,
      h('p', { class: 'muted' }, `Messages that reached a provider from ${data.from} to ${data.to}. Via agent: through the agent’s own account, paid by the agent. Via platform: through the platform’s accounts, paid by the platform.`),
      tableWrap('Usage per agent', h('table', { class: 'table usage-table' },
        h('caption', { class: 'visually-hidden' }, `Usage per agent from ${data.from} to ${data.to}`),
        h('thead', {},
          h('tr', {},
            h('th', { scope: 'col', rowspan: 2 }, 'Agent'),
            h('th', { scope: 'colgroup', colspan: 2 }, 'Email'),
            h('th', { scope: 'colgroup', colspan: 2 }, 'SMS'),
            h('th', { scope: 'col', rowspan: 2, class: 'num' }, 'Total'),
            h('th', { scope: 'col', rowspan: 2 }, 'Platform share')),
          h('tr', {},
            h('th', { scope: 'col', class: 'num' }, 'Via agent'),
            h('th', { scope: 'col', class: 'num' }, 'Via platform'),
            h('th', { scope: 'col', class: 'num' }, 'Via agent'),
            h('th', { scope: 'col', class: 'num' }, 'Via platform'))),
        h('tbody', {}, items.map((u) => h('tr', { dataset: { agent: u.agentId } },
          h('th', { scope: 'row', 'data-label': 'Agent' }, u.agentName || u.agentId),
          h('td', { class: 'num', 'data-label': 'Email via agent' }, n(u.email?.viaAgent)),
          h('td', { class: 'num', 'data-label': 'Email via platform' }, n(u.email?.viaPlatform)),
          h('td', { class: 'num', 'data-label': 'SMS via agent' }, n(u.sms?.viaAgent)),
          h('td', { class: 'num', 'data-label': 'SMS via platform' }, n(u.sms?.viaPlatform)),
          h('td', { class: 'num', 'data-label': 'Total' }, n(u.total)),
          h('td', { 'data-label': 'Platform share' }, bar(u))))),
        h('tfoot', {}, h('tr', {},
          h('th', { scope: 'row', 'data-label': 'Agent' }, 'All agents'),
          h('td', { class: 'num', 'data-label': 'Email via agent' }, n(t.email?.viaAgent)),
          h('td', { class: 'num', 'data-label': 'Email via platform' }, n(t.email?.viaPlatform)),
          h('td', { class: 'num', 'data-label': 'SMS via agent' }, n(t.sms?.viaAgent)),
          h('td', { class: 'num', 'data-label': 'SMS via platform' }, n(t.sms?.viaPlatform)),
          h('td', { class: 'num', 'data-label': 'Total' }, n(t.total)),
          h('td', { 'data-label': 'Platform share' }, bar(t)))))),
      reputation(items, t, data));
  }

  // Email bounce and complaint rates per agent, flagged where mailbox providers start to act
  // (bounces over 2 %, spam complaints over 0.1 %; Gmail and Yahoo refuse bulk mail at 0.3 %).
  function reputation(items, t, data) {
    const n = (v) => formatNumber(v ?? 0);
    const pct = (rate) => (rate == null ? '—' : `${(rate * 100).toFixed(rate < 0.01 ? 2 : 1)}%`);
    const flag = (rate, limit) => (rate != null && rate > limit ? 'rate-high' : null);
    const row = (label, u) => {
      const e = u.email ?? {};
      return h('tr', {},
        h('th', { scope: 'row', 'data-label': 'Agent' }, label),
        h('td', { class: 'num', 'data-label': 'Delivered' }, n(e.delivered)),
        h('td', { class: 'num', 'data-label': 'Bounced' }, n(e.bounced)),
        h('td', { class: ['num', flag(e.bounceRate, 0.02)].filter(Boolean).join(' '), 'data-label': 'Bounce rate' }, pct(e.bounceRate)),
        h('td', { class: 'num', 'data-label': 'Spam complaints' }, n(e.complained)),
        h('td', { class: ['num', flag(e.complaintRate, 0.001)].filter(Boolean).join(' '), 'data-label': 'Complaint rate' }, pct(e.complaintRate)));
    };
    const high = items.filter((u) => (u.email?.bounceRate ?? 0) > 0.02 || (u.email?.complaintRate ?? 0) > 0.001);
    return h('section', { class: 'reputation', 'aria-labelledby': 'reputation-title' },
      h('h3', { id: 'reputation-title' }, 'Email reputation'),
      h('p', { class: 'muted' }, 'What providers reported back for the emails above. Mailbox providers start filtering a sender above 2% bounces or 0.1% spam complaints.'),
      high.length
        ? h('p', { class: 'alert alert-warn' }, `${high.length === 1 ? '1 agent is' : `${high.length} agents are`} above those limits: ${high.map((u) => u.agentName || u.agentId).join(', ')}.`)
        : null,
      tableWrap('Bounce and complaint rates per agent', h('table', { class: 'table reputation-table' },
        h('caption', { class: 'visually-hidden' }, `Email bounce and complaint rates per agent from ${data.from} to ${data.to}`),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, 'Agent'),
          h('th', { scope: 'col', class: 'num' }, 'Delivered'),
          h('th', { scope: 'col', class: 'num' }, 'Bounced'),
          h('th', { scope: 'col', class: 'num' }, 'Bounce rate'),
          h('th', { scope: 'col', class: 'num' }, 'Spam complaints'),
          h('th', { scope: 'col', class: 'num' }, 'Complaint rate'))),
        h('tbody', {}, items.map((u) => row(u.agentName || u.agentId, u))),
        h('tfoot', {}, row('All agents', t)))));
  }

  usageForm.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(show, loadUsage);
  });

  // ---- the platform's own accounts ----
  const platform = h('div', { class: 'platform-accounts' }, skeleton(2, { label: 'Loading the platform’s accounts…' }));

  async function loadPlatform() {
    try {
      drawPlatform(await api.admin.platform());
    } catch (err) {
      replace(platform, errorState(err, () => loadPlatform()));
    }
  }

  // One row per channel: the provider and sender agents without their own account use, and
  // whether that account's deliveries, bounces and complaints come back.
  function drawPlatform(data) {
    const row = (label, a) => h('tr', { dataset: { channel: a.channel } },
      h('th', { scope: 'row', 'data-label': 'Channel' }, label),
      h('td', { 'data-label': 'Provider' }, a.configured
        ? a.providerName
        : badge(a.missing ? `Not configured: set ${a.missing}` : 'Not configured', 'warn')),
      h('td', { 'data-label': 'Sends as' }, a.sender ?? '—'),
      h('td', { 'data-label': 'Delivery tracking' },
        a.configured ? trackingBadge(a.tracking ?? undefined) : '—',
        a.configured && a.tracking?.receiverUrl && a.tracking.status !== 'notSetUp'
          ? h('span', { class: 'cell-sub' }, h('code', {}, a.tracking.receiverUrl)) : null));
    replace(platform,
      h('p', { class: 'muted' }, `Agents without their own account send through these, as ${data.name}, or under their own branding.`),
      tableWrap('The platform’s accounts', h('table', { class: 'table platform-table' },
        h('caption', { class: 'visually-hidden' }, 'The platform’s accounts'),
        h('thead', {}, h('tr', {}, ['Channel', 'Provider', 'Sends as', 'Delivery tracking']
          .map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, row('Email', data.email), row('SMS', data.sms)))));
  }

  // ---- agents ----
  const agents = h('div', { class: 'agents' }, skeleton(5, { label: 'Loading agents…' }));
  const more = h('button', { type: 'button', class: 'btn btn-secondary', hidden: true }, 'Load more agents');
  const agentsSummary = h('p', { class: 'results-summary', role: 'status' });
  let agentItems = [];
  let cursor = null;

  async function loadAgents(append = false) {
    try {
      const page = await api.admin.agents({ limit: PAGE, cursor: append ? cursor : undefined });
      agentItems = append ? agentItems.concat(page.items ?? []) : (page.items ?? []);
      cursor = page.nextCursor ?? null;
      drawAgents();
    } catch (err) {
      if (append) agentsSummary.textContent = `Could not load more: ${describeError(err)}`;
      else replace(agents, errorState(err, () => loadAgents()));
    }
  }

  function drawAgents() {
    more.hidden = !cursor;
    agentsSummary.textContent = agentItems.length
      ? `${formatNumber(agentItems.length)}${cursor ? '+' : ''} agent${agentItems.length === 1 ? '' : 's'}.` : '';
    if (!agentItems.length) {
      replace(agents, emptyState('No agents yet.', 'The platform creates agents through the API.'));
      return;
    }
    replace(agents, tableWrap('Agents', h('table', { class: 'table agents-table' },
      h('caption', { class: 'visually-hidden' }, 'Agents'),
      h('thead', {}, h('tr', {}, ['Agent', 'Email', 'Email provider', 'SMS provider', 'Fallback', 'Created']
        .map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, agentItems.map((a) => h('tr', { dataset: { id: a.id } },
        h('th', { scope: 'row', 'data-label': 'Agent' }, a.name, h('span', { class: 'cell-sub' }, h('code', {}, a.id))),
        h('td', { 'data-label': 'Email' }, a.email),
        h('td', { 'data-label': 'Email provider' }, integrationBadge(a.integrations?.email ?? null)),
        h('td', { 'data-label': 'SMS provider' }, integrationBadge(a.integrations?.sms ?? null)),
        h('td', { 'data-label': 'Fallback' }, a.fallbackToPlatform === false ? 'Off' : 'On'),
        h('td', { 'data-label': 'Created' }, timeEl(a.createdAt))))))));
  }
  more.addEventListener('click', () => busy(more, () => loadAgents(true)));

  replace(main,
    pageHeader('Admin', { subtitle: 'Agents, their accounts, and who pays for what they send.' }),
    h('section', { class: 'card', 'aria-labelledby': 'usage-title' },
      h('h2', { class: 'card-title', id: 'usage-title' }, 'Usage per agent'),
      usageAlert.root, usageForm, usage),
    h('section', { class: 'card', 'aria-labelledby': 'platform-title' },
      h('h2', { class: 'card-title', id: 'platform-title' }, 'Platform accounts'),
      platform),
    h('section', { class: 'card', 'aria-labelledby': 'agents-title' },
      h('h2', { class: 'card-title', id: 'agents-title' }, 'Agents'),
      agentsSummary, agents, h('div', { class: 'load-more' }, more)));
  await Promise.all([loadUsage(), loadPlatform(), loadAgents()]);
}

// Tracking as a badge: on (ok), failing (error), anything else (neutral), in words.
// A short badge (On, Setting up, Not working, Off) with the reason in words beneath it, so a
// long reason wraps on a narrow screen instead of stretching the badge.
function trackingBadge(t = { status: 'notSetUp' }) {
  const [label, tone] = {
    on: ['On', 'ok'], settingUp: ['Setting up', 'info'], failing: ['Not working', 'error'],
  }[t.status] ?? ['Off', 'neutral'];
  const full = trackingText(t);
  const reason = full.startsWith(label) ? full.slice(label.length).replace(/^[:\s…]+/, '') : full;
  return [badge(label, tone), reason ? h('span', { class: 'cell-sub' }, reason) : null];
}

function isoDate(d) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
