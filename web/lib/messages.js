// Shared wording for messages: how a route, a payer and a kind of message are shown.
import { h } from './dom.js';
import { providerName } from './ui.js';

// "Your account · SendGrid" / "Platform · Resend".
export function routeVia(route) {
  if (!route) return 'Not routed yet';
  return `${route.via === 'agent' ? 'Your account' : 'Platform'} · ${providerName(route)}`;
}

export function payerLabel(payer) {
  if (payer === 'agent') return 'You';
  if (payer === 'platform') return 'Platform';
  return '—';
}

export function channelLabel(channel) {
  return channel === 'sms' ? 'SMS' : 'Email';
}

// "seller_welcome" → "Seller welcome".
export function templateLabel(m) {
  const raw = m.template || m.kind || '';
  const t = String(raw).replace(/[_.-]+/g, ' ').trim();
  return t ? t.charAt(0).toUpperCase() + t.slice(1) : channelLabel(m.channel);
}

// Route cell: via line and the From.
export function routeCell(route) {
  if (!route) return h('span', { class: 'muted' }, 'Not routed yet');
  return [
    h('span', { class: `route-via via-${route.via}` }, routeVia(route)),
    h('span', { class: 'cell-sub' }, `From ${route.from}`),
    route.replyTo ? h('span', { class: 'cell-sub' }, `Reply-To ${route.replyTo}`) : null,
  ];
}
