// One message: who it went to, which account sent it and who paid, the rendered content
// (email HTML in a sandboxed iframe), the status history and every attempt.
import { h, replace, timeEl, formatTime } from '../lib/dom.js';
import { api, ApiError } from '../lib/api.js';
import { pageHeader, messageStatusBadge, TERMINAL_STATUSES, statusLabel, emptyState } from '../lib/ui.js';
import { routeVia, payerLabel, channelLabel, templateLabel } from '../lib/messages.js';
import { emailFrame } from '../lib/preview.js';

const POLL_MS = 2000;

export async function render(main, ctx) {
  const id = ctx.params.id;
  let timer = null;
  ctx.onLeave(() => clearTimeout(timer));

  let m;
  try {
    m = await api.messages.get(id);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      ctx.setTitle('Message not found');
      replace(main, back(),
        pageHeader('Message not found'),
        emptyState('There is no message with this id in your log.', null,
          h('a', { href: '/app/messages' }, 'See all messages')));
      return;
    }
    throw err;
  }

  const contentCard = h('section', { class: 'card', 'aria-labelledby': 'content-title' });
  const overview = h('section', { class: 'card', 'aria-labelledby': 'overview-title' });
  const historyCard = h('section', { class: 'card', 'aria-labelledby': 'history-title' });
  const eventsCard = h('section', { class: 'card', 'aria-labelledby': 'events-title' });
  const attemptsCard = h('section', { class: 'card', 'aria-labelledby': 'attempts-title' });
  const headerSlot = h('div');
  let shownContent = null;

  function draw() {
    const title = m.channel === 'email'
      ? (m.content?.subject || templateLabel(m))
      : `SMS to ${m.toName || m.to}`;
    ctx.setTitle(title);
    const hadFocus = headerSlot.contains(document.activeElement);
    replace(headerSlot, pageHeader(title, {
      subtitle: `${channelLabel(m.channel)} to ${recipient(m)}`,
      actions: messageStatusBadge(m.status),
    }));
    if (hadFocus) headerSlot.querySelector('h1')?.focus();

    replace(overview,
      h('h2', { class: 'card-title', id: 'overview-title' }, 'Overview'),
      h('dl', { class: 'summary' }, rows([
        ['Status', [messageStatusBadge(m.status),
          m.status === 'retrying' && m.nextAttemptAt ? h('span', { class: 'cell-sub' }, 'Next try ', timeEl(m.nextAttemptAt)) : null]],
        ['To', recipient(m)],
        ['Message', `${templateLabel(m)} (${channelLabel(m.channel)})`],
        ['Sent through', m.route ? routeVia(m.route) : 'Not routed yet'],
        ['From', m.route?.from ?? '—'],
        m.route?.replyTo ? ['Reply-To', m.route.replyTo] : null,
        ['Paid by', payerLabel(m.payer ?? m.route?.payer)],
        ['Attempts', String(m.attempts ?? 0)],
        m.lastError ? ['Last error', h('span', { class: 'cell-error' }, m.lastError)] : null,
        m.providerMessageId ? ['Provider message id', h('code', {}, m.providerMessageId)] : null,
        ['Created', formatTime(m.createdAt, { seconds: true })],
        ['Updated', formatTime(m.updatedAt, { seconds: true })],
      ])));

    // Content does not change once queued; redraw it only once (keeps the iframe steady).
    const contentKey = JSON.stringify(m.content ?? null);
    if (contentKey !== shownContent) {
      shownContent = contentKey;
      drawContent();
    }

    const history = m.history ?? [];
    replace(historyCard,
      h('h2', { class: 'card-title', id: 'history-title' }, 'Status history'),
      history.length
        ? h('ol', { class: 'timeline' }, history.map((e) =>
          h('li', { class: `timeline-item status-${e.status}` },
            h('div', { class: 'timeline-head' }, messageStatusBadge(e.status),
              h('time', { datetime: e.at }, formatTime(e.at, { seconds: true }))),
            e.detail ? h('p', { class: 'timeline-detail' }, e.detail) : null)))
        : h('p', { class: 'muted' }, 'No status changes recorded yet.'));

    const events = m.deliveryEvents ?? [];
    replace(eventsCard,
      h('h2', { class: 'card-title', id: 'events-title' }, 'Delivery events'),
      events.length
        ? h('ol', { class: 'timeline' }, events.map((e) =>
          h('li', { class: `timeline-item event-${e.type}` },
            h('div', { class: 'timeline-head' },
              h('span', { class: 'event-type' }, eventLabel(e)),
              h('time', { datetime: e.at }, formatTime(e.at, { seconds: true }))),
            h('p', { class: 'timeline-detail' },
              `Reported by ${e.providerName}`, e.reason ? `: ${e.reason}` : '',
              e.url ? [' ', h('code', {}, e.url)] : null))))
        : h('p', { class: 'muted' }, m.status === 'queued' || m.status === 'sending'
          ? 'Nothing yet: the message has not been handed to the provider.'
          : 'No delivery events yet. They appear here as the provider reports them.'));

    const attempts = m.attemptLog ?? [];
    replace(attemptsCard,
      h('h2', { class: 'card-title', id: 'attempts-title' }, 'Attempts'),
      attempts.length
        ? h('ol', { class: 'attempts' }, attempts.map((a) => h('li', { class: `attempt outcome-${a.outcome}` },
          h('div', { class: 'attempt-head' },
            h('span', { class: 'attempt-number' }, `Attempt ${a.number}`),
            h('span', { class: `attempt-outcome ${a.outcome === 'accepted' ? 'is-ok' : 'is-bad'}` },
              outcomeLabel(a.outcome)),
            h('time', { datetime: a.at }, formatTime(a.at, { seconds: true }))),
          h('p', {}, a.route
            ? `${routeVia(a.route)}, from ${a.route.from}. Paid by ${payerLabel(a.route.payer).toLowerCase()}.`
            : 'No route.'),
          a.error ? h('p', { class: 'cell-error' }, a.error) : null,
          a.providerMessageId ? h('p', { class: 'cell-sub' }, 'Provider message id ', h('code', {}, a.providerMessageId)) : null)))
        : h('p', { class: 'muted' }, 'Not attempted yet.'));
  }

  function drawContent() {
    const c = m.content ?? {};
    const parts = [h('h2', { class: 'card-title', id: 'content-title' }, 'Content')];
    if (m.channel === 'email') {
      parts.push(
        h('dl', { class: 'summary compact' }, rows([['Subject', c.subject || '(no subject)']])),
        c.html
          ? h('div', { class: 'email-frame-wrap' }, emailFrame(c.html, { title: `Email content: ${c.subject || 'no subject'}` }))
          : h('p', { class: 'muted' }, 'This email has no HTML part.'),
        c.text
          ? h('details', { class: 'plain-text' }, h('summary', {}, 'Plain-text version'), h('pre', {}, c.text))
          : null);
    } else {
      parts.push(h('div', { class: 'sms-bubble' }, c.text || '(empty)'));
    }
    replace(contentCard, parts);
  }

  function schedule() {
    clearTimeout(timer);
    if (TERMINAL_STATUSES.has(m.status)) return;
    timer = setTimeout(async () => {
      try {
        m = await api.messages.get(id);
        draw();
      } catch {
        /* keep showing what we have; try again */
      }
      schedule();
    }, POLL_MS);
  }

  draw();
  replace(main,
    back(),
    headerSlot,
    h('div', { class: 'detail-grid' },
      h('div', { class: 'detail-main' }, contentCard, attemptsCard),
      h('div', { class: 'detail-side' }, overview, eventsCard, historyCard)));
  schedule();
}

function back() {
  return h('p', { class: 'back' }, h('a', { href: '/app/messages' }, h('span', { 'aria-hidden': 'true' }, '← '), 'All messages'));
}

// "Ann Seller <ann@example.com>" for email, "Ann Seller (+14155550199)" for SMS.
function recipient(m) {
  if (!m.toName) return m.to;
  return m.channel === 'sms' ? `${m.toName} (${m.to})` : `${m.toName} <${m.to}>`;
}

function rows(pairs) {
  return pairs.filter(Boolean).map(([k, v]) => h('div', { class: 'summary-row' }, h('dt', {}, k), h('dd', {}, v)));
}

// A delivery event in words: "Delivered", "Bounced (hard)", "Opened", …
function eventLabel(e) {
  const map = {
    queued: 'Queued by the provider',
    sent: 'Sent by the provider',
    deferred: 'Delayed (the provider keeps trying)',
    delivered: 'Delivered',
    bounced: e.bounce === 'soft' ? 'Bounced (temporary)' : 'Bounced',
    rejected: 'Rejected by the provider',
    failed: 'Failed',
    complained: 'Marked as spam',
    opened: 'Opened',
    clicked: 'Link clicked',
    unsubscribed: 'Unsubscribed',
    opted_out: 'Opted out (STOP)',
  };
  return map[e.type] ?? `Other event (${e.providerEvent || e.type})`;
}

function outcomeLabel(outcome) {
  const map = {
    accepted: 'Accepted',
    sent: 'Accepted',
    retryable: 'Will retry',
    permanent: 'Rejected',
    bad_credentials: 'Credentials rejected',
    error: 'Error',
  };
  return map[outcome] ?? statusLabel(String(outcome ?? '').replace(/_/g, ' '));
}

