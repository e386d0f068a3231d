// The Integrations tab: an Email Provider card and an SMS Provider card (connect, test,
// pause, disconnect), and a panel that says in plain words which account sends the agent's
// email and SMS and who pays, refreshed after every change.
import { h, replace, uid, busy, timeEl } from '../lib/dom.js';
import { api, describeError } from '../lib/api.js';
import {
  field, formAlert, showFormError, clearFormErrors, integrationBadge, providerName,
  confirmDialog, announce, trackingText,
} from '../lib/ui.js';

export async function integrationsPanel(panel, { agentId, ctx }) {
  const [agent, first, firstRoutes, offered] = await Promise.all([
    api.agent.get(agentId),
    api.integrations.get(agentId),
    api.routes(agentId),
    api.providers(),
  ]);
  const state = { agent, integrations: first, routes: firstRoutes };

  const routesPanel = createRoutesPanel(state, agentId);
  const on = (channel) => offered.items.filter((p) => p.channel === channel);
  const email = createCard(channelSpec('email', on('email')), state, agentId, refresh);
  const sms = createCard(channelSpec('sms', on('sms')), state, agentId, refresh);

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
  const provider = providerName(route);
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
      ? `Your ${providerName(integration)} account is failing: messages it rejects are re-sent through the platform’s account.`
      : `Your ${providerName(integration)} account is failing and fallback is off: messages it rejects fail.`);
  } else if (integration?.status === 'inactive') {
    notes.push(`Your ${providerName(integration)} account is inactive, so the platform’s account is used.`);
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

// "a, b or c".
function oneOf(words) {
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words.at(-1)}` : (words[0] ?? '');
}

// What a credential check proves: "API key" when the provider has one, else "credentials".
// (The optional webhook key proves nothing about sending, so it is not counted.)
function credentialWords(provider) {
  const secrets = (provider?.fields ?? []).filter((f) => f.kind === 'secret' && f.required);
  return secrets.length === 1 && secrets[0].name === 'apiKey' ? 'API key' : 'credentials';
}

// "Your saved API key is deleted" / "Your saved credentials are deleted".
function savedDeleted(provider) {
  const what = credentialWords(provider);
  return `Your saved ${what} ${what === 'API key' ? 'is' : 'are'} deleted`;
}

// The input for one credential field, as its provider describes it.
function credentialInput(f) {
  const plain = { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' };
  if (f.kind === 'choice') {
    return field({ label: f.label, name: f.name, kind: 'select', hint: f.help,
      options: f.choices.map((c) => ({ value: c.value, label: c.label })) });
  }
  const types = { secret: 'password', email: 'email', phone: 'tel', port: 'text' };
  const attrs = f.kind === 'secret'
    ? { autocomplete: 'new-password', spellcheck: 'false', autocapitalize: 'none' }
    : f.kind === 'port' ? { ...plain, inputmode: 'numeric' } : plain;
  if (f.placeholder) attrs.placeholder = f.placeholder;
  if (f.maxLength) attrs.maxlength = String(f.maxLength);
  return field({ label: f.label, name: f.name, type: types[f.kind] ?? 'text', hint: f.help, attrs });
}

// A channel's card, drawn from the providers Herald offers on it (GET /api/v1/providers):
// a Provider choice when there are several, and each provider's own fields.
function channelSpec(channel, providers) {
  const byId = new Map(providers.map((p) => [p.id, p]));
  const first = providers[0];
  const names = providers.map((p) => p.name);
  const selected = (f) => byId.get(f.provider ? f.provider.control.value : first?.id) ?? first;
  return {
    channel,
    title: channel === 'email' ? 'Email Provider' : 'SMS Provider',
    lead: channel === 'email'
      ? `Send email through your own ${oneOf(names)} account.`
      : `Send SMS from your own ${oneOf(names)} number.`,
    fields: () => {
      const inputs = {};
      if (providers.length > 1) {
        inputs.provider = field({ label: 'Provider', name: 'provider', kind: 'select',
          options: providers.map((p) => ({ value: p.id, label: p.name })) });
      }
      // One input per field name across the channel's providers (a From address typed for
      // one provider stays when another is picked).
      for (const p of providers) {
        for (const f of p.fields) if (!inputs[f.name]) inputs[f.name] = credentialInput(f);
      }
      const sync = () => {
        const p = selected(inputs);
        const own = new Map(p.fields.map((f) => [f.name, f]));
        for (const [name, input] of Object.entries(inputs)) {
          if (name === 'provider') continue;
          const f = own.get(name);
          input.root.hidden = !f;
          if (!f) continue;
          input.setLabel(f.label);
          const saved = f.kind === 'secret' && input.savedFor === p.id ? input.savedHint : '';
          input.setHint(saved ? `${f.help} ${saved}` : f.help);
        }
      };
      inputs.provider?.control.addEventListener('change', sync);
      return { fields: inputs, sync, secrets: () => selected(inputs).fields.filter((f) => f.kind === 'secret').map((f) => inputs[f.name]) };
    },
    fill(inputs, integration) {
      if (inputs.provider) inputs.provider.control.value = byId.has(integration?.provider) ? integration.provider : first.id;
      const p = selected(inputs);
      for (const f of providers.flatMap((x) => x.fields)) {
        const input = inputs[f.name];
        if (f.kind === 'secret') {
          input.control.value = '';
          const hint = integration?.provider === p.id ? integration?.[`${f.name}Hint`] : '';
          input.savedHint = hint ? `The saved value ends in ${hint}; enter it again to save changes.` : '';
          input.savedFor = integration?.provider;
        } else if (input.control.tagName === 'SELECT') {
          input.control.value = integration?.[f.name] ?? f.default ?? f.choices?.[0]?.value ?? '';
        } else {
          input.control.value = integration?.[f.name] ?? f.default ?? '';
        }
      }
    },
    body(inputs) {
      const p = selected(inputs);
      const b = { provider: p.id };
      for (const f of p.fields) b[f.name] = inputs[f.name].control.value.trim();
      return b;
    },
    required(inputs) {
      return selected(inputs).fields
        .filter((f) => f.required && f.kind !== 'choice')
        .map((f) => [inputs[f.name], `Enter the ${f.label}.`]);
    },
    summary(i) {
      const p = byId.get(i.provider);
      const rows = [['Provider', providerName(i)]];
      for (const f of p?.fields ?? []) {
        if (f.kind === 'secret') {
          const hint = i[`${f.name}Hint`];
          // An optional key left empty is not shown (there is nothing saved).
          if (f.required || hint !== undefined) rows.push([f.label, hint ? `ending in ${hint}` : 'saved']);
        } else if (f.kind === 'choice') {
          const c = f.choices.find((x) => x.value === i[f.name]);
          if (i[f.name]) rows.push([f.label, c?.label ?? i[f.name]]);
        } else if (i[f.name]) {
          rows.push([f.label, i[f.name]]);
        }
      }
      rows.push(['Connected since', timeEl(i.connectedAt)]);
      if (i.tracking) {
        rows.push(['Delivery tracking', trackingText(i.tracking)]);
        if (i.tracking.receiverUrl && i.tracking.status !== 'notSetUp') {
          rows.push(['Events go to', h('code', {}, i.tracking.receiverUrl)]);
        }
      }
      return rows;
    },
    provider: (i) => byId.get(i?.provider),
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
  const { fields, sync, secrets } = spec.fields();
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
        for (const input of secrets()) input.control.value = '';
        editing = false;
        lastTest = null;
        await refresh();
        announce(`${providerName(integration())} connected.`);
        title.focus();
      } catch (err) {
        showFormError(err, { fields, alert });
      }
    });
  });

  async function runTest(button) {
    await busy(button, async () => {
      const provider = providerName(integration());
      lastTest = { tone: 'info', text: `Checking your ${provider} credentials…` };
      drawTest();
      try {
        const r = await api.integrations.test(agentId, spec.channel);
        lastTest = describeTest(r, provider, credentialWords(spec.provider(integration())));
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
      title: `Disconnect ${providerName(i)}?`,
      text: spec.channel === 'email'
        ? `${savedDeleted(spec.provider(i))}, and email goes out through the platform’s account under your brand.`
        : `${savedDeleted(spec.provider(i))}, and SMS goes out from the platform’s number.`,
      confirmLabel: 'Disconnect',
    });
    if (!ok) return;
    try {
      await api.integrations.remove(agentId, spec.channel);
      lastTest = null;
      editing = false;
      await refresh();
      announce(`${providerName(i)} disconnected.`);
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
          h('p', {}, `${providerName(i)} is rejecting your credentials.`),
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
function describeTest(r, provider, what) {
  if (r.ok) return { tone: 'ok', text: `Connection works: ${provider} accepted your ${what}.` };
  if (r.badCredentials) {
    return { tone: 'error', text: `${provider} rejected your ${what}.`, detail: r.detail };
  }
  if (r.retryable) {
    return { tone: 'warn', text: `Couldn’t reach ${provider}. Try again in a moment.`, detail: r.detail };
  }
  return { tone: 'error', text: 'The test failed.', detail: r.detail };
}
