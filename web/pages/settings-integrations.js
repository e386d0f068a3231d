// The Integrations tab: an Email Provider card and an SMS Provider card (connect, test,
// pause, disconnect), and a panel that says in plain words which account sends the agent's
// email and SMS and who pays, refreshed after every change.
import { h, replace, uid, busy, timeEl } from '../lib/dom.js';
import { api, describeError } from '../lib/api.js';
import {
  field, formAlert, showFormError, clearFormErrors, integrationBadge, providerName,
  confirmDialog, announce,
} from '../lib/ui.js';

const EMAIL_PROVIDERS = [
  { value: 'resend', label: 'Resend' },
  { value: 'sendgrid', label: 'SendGrid' },
  { value: 'mailgun', label: 'Mailgun' },
];
const KEY_HINTS = {
  resend: 'Your Resend API key (starts with re_). Sending access is enough.',
  sendgrid: 'Your SendGrid API key (starts with SG.) with Mail Send permission.',
  mailgun: 'Your Mailgun private API key, or a domain sending key.',
};

export async function integrationsPanel(panel, { agentId, ctx }) {
  const [agent, first, firstRoutes] = await Promise.all([
    api.agent.get(agentId),
    api.integrations.get(agentId),
    api.routes(agentId),
  ]);
  const state = { agent, integrations: first, routes: firstRoutes };

  const routesPanel = createRoutesPanel(state, agentId);
  const email = createCard(emailSpec(), state, agentId, refresh);
  const sms = createCard(smsSpec(), state, agentId, refresh);

  // Re-reads integrations and routes, then redraws the cards and the routes panel.
  async function refresh({ routesOnly = false } = {}) {
    try {
      const [integrations, routes] = await Promise.all([
        routesOnly ? Promise.resolve(state.integrations) : api.integrations.get(agentId),
        api.routes(agentId),
      ]);
      state.integrations = integrations;
      state.routes = routes;
      routesPanel.update();
      if (!routesOnly) {
        email.update();
        sms.update();
      }
    } catch (err) {
      routesPanel.showError(err);
    }
  }

  const onRoutesChanged = () => refresh({ routesOnly: true });
  document.addEventListener('herald:routes-changed', onRoutesChanged);
  ctx.onLeave(() => document.removeEventListener('herald:routes-changed', onRoutesChanged));

  replace(panel,
    routesPanel.root,
    h('div', { class: 'cards' }, email.root, sms.root));
}

// ---- the routes panel ----

function createRoutesPanel(state, agentId) {
  const titleId = uid('routes-title');
  const list = h('div', { class: 'routes', 'aria-live': 'polite' });
  const error = h('div', { class: 'alert alert-error', role: 'alert', hidden: true });
  const fallbackId = uid('fallback');
  const fallbackHintId = `${fallbackId}-hint`;
  const fallback = h('input', { type: 'checkbox', id: fallbackId, 'aria-describedby': fallbackHintId });
  const fallbackStatus = h('span', { class: 'inline-status', role: 'status' });
  fallback.checked = state.agent.fallbackToPlatform !== false;
  fallback.addEventListener('change', async () => {
    const want = fallback.checked;
    fallback.disabled = true;
    fallbackStatus.textContent = 'Saving…';
    try {
      await api.agent.patch(agentId, { fallbackToPlatform: want });
      state.agent.fallbackToPlatform = want;
      fallbackStatus.textContent = 'Saved.';
      update();
    } catch (err) {
      fallback.checked = !want;
      fallbackStatus.textContent = describeError(err);
    } finally {
      fallback.disabled = false;
    }
  });

  function update() {
    error.hidden = true;
    const { routes, integrations } = state;
    replace(list,
      routeRow('email', routes?.email, integrations?.email, state.agent.fallbackToPlatform !== false),
      routeRow('sms', routes?.sms, integrations?.sms, state.agent.fallbackToPlatform !== false));
  }
  function showError(err) {
    error.hidden = false;
    replace(error, h('p', {}, `Could not refresh who sends your messages: ${describeError(err)}`));
  }
  update();

  const root = h('section', { class: 'card routes-card', 'aria-labelledby': titleId },
    h('h2', { class: 'card-title', id: titleId }, 'Who sends your messages'),
    error,
    list,
    h('div', { class: 'check' },
      fallback,
      h('div', {},
        h('label', { for: fallbackId }, 'Fall back to the platform’s account'),
        h('p', { class: 'field-hint', id: fallbackHintId },
          'If your provider rejects your key, messages are re-sent through the platform’s account under your brand (the platform pays for those). Turn off to have them fail instead.'),
        fallbackStatus)));
  return { root, update, showError };
}

// One sentence per channel, e.g. "Email goes out through your SendGrid account as
// Wright Realty <matt@wrightrealty.com>. You pay for it."
export function routeSentence(channel, route) {
  const what = channel === 'email' ? 'Email' : 'SMS';
  if (!route) return `${what}: not known yet.`;
  if (route.error) return `${what} can’t be sent right now: ${route.error}.`;
  const provider = providerName(route.provider);
  const whose = route.via === 'agent' ? `your ${provider} account` : `the platform’s ${provider} account`;
  const sender = channel === 'email' ? ` as ${route.from}` : ` from ${route.from}`;
  const reply = route.replyTo ? ` Replies go to ${route.replyTo}.` : '';
  const pays = route.payer === 'agent' ? 'You pay for it.' : 'The platform pays for it.';
  return `${what} goes out through ${whose}${sender}.${reply} ${pays}`;
}

function routeRow(channel, route, integration, fallback) {
  const notes = [];
  if (integration?.status === 'failing') {
    notes.push(fallback
      ? `Your ${providerName(integration.provider)} account is failing: messages it rejects are re-sent through the platform’s account.`
      : `Your ${providerName(integration.provider)} account is failing and fallback is off: messages it rejects fail.`);
  } else if (integration?.status === 'inactive') {
    notes.push(`Your ${providerName(integration.provider)} account is inactive, so the platform’s account is used.`);
  }
  const payer = route && !route.error
    ? h('span', { class: `pill ${route.payer === 'agent' ? 'pill-agent' : 'pill-platform'}` },
      route.payer === 'agent' ? 'You pay' : 'Platform pays')
    : null;
  return h('div', { class: 'route', dataset: { channel } },
    h('span', { class: 'route-channel', 'aria-hidden': 'true' }, channel === 'email' ? 'Email' : 'SMS'),
    h('div', { class: 'route-text' },
      h('p', {}, routeSentence(channel, route)),
      notes.map((n) => h('p', { class: 'route-note' }, n))),
    payer);
}

// ---- the provider cards ----

function emailSpec() {
  return {
    channel: 'email',
    title: 'Email Provider',
    lead: 'Send email through your own Resend, SendGrid or Mailgun account.',
    fields: () => {
      const provider = field({ label: 'Provider', name: 'provider', kind: 'select', options: EMAIL_PROVIDERS });
      const apiKey = field({ label: 'API Key', name: 'apiKey', type: 'password', hint: KEY_HINTS.resend,
        attrs: { autocomplete: 'new-password', spellcheck: 'false', autocapitalize: 'none' } });
      const fromEmail = field({ label: 'From Email', name: 'fromEmail', type: 'email',
        hint: 'An address on a domain you have verified with your provider.',
        attrs: { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' } });
      const domain = field({ label: 'Domain', name: 'domain', hint: 'Your Mailgun sending domain, e.g. mg.example.com.',
        attrs: { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' } });
      const region = field({ label: 'Region', name: 'region', kind: 'select',
        hint: 'Where your Mailgun account lives.',
        options: [{ value: 'us', label: 'US (api.mailgun.net)' }, { value: 'eu', label: 'EU (api.eu.mailgun.net)' }] });
      const sync = () => {
        const p = provider.control.value;
        domain.root.hidden = p !== 'mailgun';
        region.root.hidden = p !== 'mailgun';
        apiKey.setHint(apiKey.savedHint ? `${KEY_HINTS[p]} ${apiKey.savedHint}` : KEY_HINTS[p]);
      };
      provider.control.addEventListener('change', sync);
      return { fields: { provider, apiKey, fromEmail, domain, region }, sync, secret: apiKey };
    },
    fill(f, integration) {
      f.provider.control.value = integration?.provider ?? 'resend';
      f.fromEmail.control.value = integration?.fromEmail ?? '';
      f.domain.control.value = integration?.domain ?? '';
      f.region.control.value = integration?.region ?? 'us';
      f.apiKey.control.value = '';
      f.apiKey.savedHint = integration?.apiKeyHint
        ? `The saved key ends in ${integration.apiKeyHint}; enter the key again to save changes.` : '';
    },
    body(f) {
      const provider = f.provider.control.value;
      const b = { provider, apiKey: f.apiKey.control.value.trim(), fromEmail: f.fromEmail.control.value.trim() };
      if (provider === 'mailgun') {
        b.domain = f.domain.control.value.trim();
        b.region = f.region.control.value;
      }
      return b;
    },
    required: (f) => [
      [f.apiKey, 'Enter the API key.'],
      [f.fromEmail, 'Enter the address to send from.'],
      ...(f.provider.control.value === 'mailgun' ? [[f.domain, 'Enter your Mailgun domain.']] : []),
    ],
    summary(i) {
      return [
        ['Provider', providerName(i.provider)],
        ['From Email', i.fromEmail],
        ['API key', i.apiKeyHint ? `ending in ${i.apiKeyHint}` : 'saved'],
        ...(i.provider === 'mailgun' ? [['Domain', i.domain], ['Region', String(i.region ?? '').toUpperCase()]] : []),
        ['Connected since', timeEl(i.connectedAt)],
      ];
    },
  };
}

function smsSpec() {
  return {
    channel: 'sms',
    title: 'SMS Provider',
    lead: 'Send SMS from your own Twilio number.',
    fields: () => {
      const accountSid = field({ label: 'Account SID', name: 'accountSid',
        hint: 'From your Twilio console; starts with AC.',
        attrs: { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' } });
      const authToken = field({ label: 'Auth Token', name: 'authToken', type: 'password',
        hint: 'Your Twilio auth token.', attrs: { autocomplete: 'new-password', spellcheck: 'false' } });
      const phoneNumber = field({ label: 'Phone Number', name: 'phoneNumber', type: 'tel',
        hint: 'A Twilio number on this account, with the country code, e.g. +1 415 555 0123.',
        attrs: { autocomplete: 'off' } });
      const sync = () => {
        authToken.setHint(authToken.savedHint ? `Your Twilio auth token. ${authToken.savedHint}` : 'Your Twilio auth token.');
      };
      return { fields: { accountSid, authToken, phoneNumber }, sync, secret: authToken };
    },
    fill(f, integration) {
      f.accountSid.control.value = integration?.accountSid ?? '';
      f.phoneNumber.control.value = integration?.phoneNumber ?? '';
      f.authToken.control.value = '';
      f.authToken.savedHint = integration?.authTokenHint
        ? `The saved token ends in ${integration.authTokenHint}; enter it again to save changes.` : '';
    },
    body(f) {
      return {
        provider: 'twilio',
        accountSid: f.accountSid.control.value.trim(),
        authToken: f.authToken.control.value.trim(),
        phoneNumber: f.phoneNumber.control.value.trim(),
      };
    },
    required: (f) => [
      [f.accountSid, 'Enter your Account SID.'],
      [f.authToken, 'Enter your auth token.'],
      [f.phoneNumber, 'Enter your Twilio phone number.'],
    ],
    summary(i) {
      return [
        ['Provider', 'Twilio'],
        ['Account SID', i.accountSid],
        ['Auth token', i.authTokenHint ? `ending in ${i.authTokenHint}` : 'saved'],
        ['Phone Number', i.phoneNumber],
        ['Connected since', timeEl(i.connectedAt)],
      ];
    },
  };
}

// One provider card. Not connected: the form with Connect. Connected (or failing, or
// inactive): what is saved (hints only), and Test connection / Change / Pause / Disconnect.
function createCard(spec, state, agentId, refresh) {
  const titleId = uid(`${spec.channel}-title`);
  const title = h('h2', { class: 'card-title', id: titleId, tabindex: '-1' }, spec.title);
  const badgeSlot = h('div', { class: 'badge-slot' });
  const body = h('div', { class: 'card-body' });
  const testResult = h('div', { class: 'test-result', role: 'status', 'aria-live': 'polite' });
  const { fields, sync, secret } = spec.fields();
  const alert = formAlert();
  const actionAlert = formAlert();
  const connect = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Connect');
  const cancel = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Cancel');
  const form = h('form', { class: 'stack', novalidate: true },
    alert.root,
    Object.values(fields).map((f) => f.root),
    h('div', { class: 'form-actions' }, connect, cancel));
  let editing = false;
  let lastTest = null; // {tone, text, detail}

  const integration = () => state.integrations?.[spec.channel] ?? null;

  cancel.addEventListener('click', () => {
    editing = false;
    update();
    title.focus();
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFormErrors({ fields, alert });
    const missing = spec.required(fields).filter(([f]) => !f.root.hidden && !f.control.value.trim());
    if (missing.length) {
      for (const [f, msg] of missing) f.setError(msg);
      missing[0][0].control.focus();
      return;
    }
    await busy(connect, async () => {
      try {
        const b = spec.body(fields);
        await api.integrations.put(agentId, spec.channel, b);
        secret.control.value = '';
        editing = false;
        lastTest = null;
        await refresh();
        announce(`${providerName(b.provider)} connected.`);
        title.focus();
      } catch (err) {
        showFormError(err, { fields, alert });
      }
    });
  });

  async function runTest(button) {
    await busy(button, async () => {
      const provider = providerName(integration()?.provider);
      lastTest = { tone: 'info', text: `Checking your ${provider} credentials…` };
      drawTest();
      try {
        const r = await api.integrations.test(agentId, spec.channel);
        lastTest = describeTest(r, provider, spec.channel);
      } catch (err) {
        lastTest = { tone: 'error', text: `The test could not run: ${describeError(err)}` };
      }
      await refresh();
    });
  }

  async function setActive(button, active) {
    await busy(button, async () => {
      try {
        await api.integrations.setActive(agentId, spec.channel, active);
        await refresh();
        announce(active ? `${spec.title}: resumed.` : `${spec.title}: paused. The platform’s account is used meanwhile.`);
        title.focus();
      } catch (err) {
        actionAlert.show(describeError(err));
      }
    });
  }

  async function disconnect() {
    const i = integration();
    const ok = await confirmDialog({
      title: `Disconnect ${providerName(i?.provider)}?`,
      text: spec.channel === 'email'
        ? 'Your saved API key is deleted, and email goes out through the platform’s account under your brand.'
        : 'Your saved auth token is deleted, and SMS goes out from the platform’s number.',
      confirmLabel: 'Disconnect',
    });
    if (!ok) return;
    try {
      await api.integrations.remove(agentId, spec.channel);
      lastTest = null;
      editing = false;
      await refresh();
      announce(`${providerName(i?.provider)} disconnected.`);
      title.focus();
    } catch (err) {
      actionAlert.show(describeError(err));
    }
  }

  function drawTest() {
    if (!lastTest) {
      testResult.replaceChildren();
      testResult.hidden = true;
      return;
    }
    testResult.hidden = false;
    replace(testResult,
      h('div', { class: `alert alert-${lastTest.tone}` },
        h('p', { class: 'test-result-text' }, lastTest.text),
        lastTest.detail ? h('p', { class: 'test-result-detail' }, lastTest.detail) : null));
  }

  let formFor = null; // the integration the open form was filled from
  function update() {
    const i = integration();
    replace(badgeSlot, h('span', { class: 'visually-hidden' }, 'Status: '), integrationBadge(i));
    actionAlert.clear();
    if (!i || editing) {
      // A refresh caused by the other card must not wipe what is being typed here.
      const key = JSON.stringify(i);
      if (!body.contains(form) || key !== formFor) {
        clearFormErrors({ fields, alert });
        spec.fill(fields, i);
        sync();
        formFor = key;
      }
      cancel.hidden = !i;
      if (!body.contains(form)) replace(body, form);
    } else {
      formFor = null;
      const notes = [];
      if (i.status === 'failing') {
        notes.push(h('div', { class: 'alert alert-error' },
          h('p', {}, `${providerName(i.provider)} is rejecting your credentials.`),
          i.statusReason && !lastTest ? h('p', { class: 'test-result-detail' }, i.statusReason) : null,
          h('p', {}, 'Replace them with Change, then Test connection.')));
      } else if (i.status === 'inactive') {
        notes.push(h('div', { class: 'alert alert-warn' },
          h('p', {}, 'Inactive: your account is saved but not used. The platform’s account sends instead.')));
      }
      const testButton = h('button', { type: 'button', class: 'btn btn-primary' }, 'Test connection');
      testButton.addEventListener('click', () => runTest(testButton));
      const change = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Change');
      change.addEventListener('click', () => {
        editing = true;
        update();
        fields[Object.keys(fields)[0]].control.focus();
      });
      const toggle = h('button', { type: 'button', class: 'btn btn-secondary' }, i.active ? 'Pause' : 'Resume');
      toggle.addEventListener('click', () => setActive(toggle, !i.active));
      const remove = h('button', { type: 'button', class: 'btn btn-danger-outline' }, 'Disconnect');
      remove.addEventListener('click', disconnect);
      replace(body,
        notes,
        h('dl', { class: 'summary' },
          spec.summary(i).map(([k, v]) => h('div', { class: 'summary-row' }, h('dt', {}, k), h('dd', {}, v)))),
        h('div', { class: 'card-actions' }, testButton, change, toggle, remove));
    }
    drawTest();
  }
  update();

  const root = h('section', { class: 'card integration-card', 'aria-labelledby': titleId, dataset: { channel: spec.channel } },
    h('div', { class: 'card-head' }, title, badgeSlot),
    h('p', { class: 'muted card-lead' }, spec.lead),
    actionAlert.root,
    body,
    testResult);
  return { root, update };
}

// Plain words for a credential check result.
function describeTest(r, provider, channel) {
  const what = channel === 'email' ? 'API key' : 'credentials';
  const status = r.httpStatus ? ` (HTTP ${r.httpStatus})` : '';
  if (r.ok) return { tone: 'ok', text: `Connection works: ${provider} accepted your ${what}.` };
  if (r.badCredentials) {
    return { tone: 'error', text: `${provider} rejected your ${what}${status}.`, detail: r.detail };
  }
  if (r.retryable) {
    return { tone: 'warn', text: `Couldn’t reach ${provider}${status}. Try again in a moment.`, detail: r.detail };
  }
  return { tone: 'error', text: `The test failed${status}.`, detail: r.detail };
}
