// The Branding tab: the agent's sender identity, saved with PUT (replaces all fields), with
// the server's field errors shown next to their fields and a live preview of an email footer.
import { h, replace, busy } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { field, formAlert, showFormError, clearFormErrors, announce } from '../lib/ui.js';

// Field order and wording follow the seed's component tree.
const FIELDS = [
  { name: 'companyName', label: 'Company Name', hint: 'The sender name on every email and SMS.',
    attrs: { autocomplete: 'organization', maxlength: 200 } },
  { name: 'replyEmail', label: 'Reply Email', type: 'email',
    hint: 'Where replies go when your email is sent through the platform’s account.',
    attrs: { autocomplete: 'email', spellcheck: 'false', autocapitalize: 'none' } },
  { name: 'smsPhone', label: 'SMS Phone', type: 'tel',
    hint: 'Your contact number for SMS, with the country code, e.g. +1 415 555 0123.',
    attrs: { autocomplete: 'tel' } },
  { name: 'emailSignature', label: 'Email Signature', kind: 'textarea',
    hint: 'Added to the end of every email.', attrs: { rows: 4, maxlength: 2000 } },
  { name: 'website', label: 'Website', type: 'url', hint: 'Linked at the bottom of your emails.',
    attrs: { autocomplete: 'url', spellcheck: 'false', autocapitalize: 'none', placeholder: 'https://' } },
  { name: 'postalAddress', label: 'Postal Address', kind: 'textarea',
    hint: 'Printed in the footer of campaign email, as anti-spam law requires.',
    attrs: { rows: 2, autocomplete: 'street-address', maxlength: 500 } },
];

export async function brandingPanel(panel, { agentId, ctx }) {
  const [branding, routes] = await Promise.all([
    api.branding.get(agentId),
    api.routes(agentId).catch(() => null),
  ]);

  const fields = {};
  for (const f of FIELDS) fields[f.name] = field(f);
  const alert = formAlert();
  const saved = h('p', { class: 'save-status', role: 'status', 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save Settings');

  function fill(b) {
    for (const f of FIELDS) fields[f.name].control.value = b?.[f.name] ?? '';
  }
  function values() {
    const v = {};
    for (const f of FIELDS) v[f.name] = fields[f.name].control.value.trim();
    return v;
  }
  fill(branding);

  // Preview of how the brand appears in an email (built from text nodes, nothing rendered as HTML).
  const preview = h('div', { class: 'brand-preview' });
  let fromAddress = addressOf(routes?.email?.from) ?? 'noreply@platform.com';
  let viaAgent = routes?.email?.via === 'agent';
  function drawPreview() {
    const v = values();
    const name = v.companyName || 'RealtorAI';
    const from = `${name} <${fromAddress}>`;
    replace(preview,
      h('dl', { class: 'preview-headers' },
        h('dt', {}, 'From'), h('dd', {}, from),
        !viaAgent && v.replyEmail ? [h('dt', {}, 'Reply-To'), h('dd', {}, v.replyEmail)] : null,
        h('dt', {}, 'Subject'), h('dd', {}, 'Welcome — your listing at 12 Oak Street')),
      h('div', { class: 'preview-body' },
        h('p', {}, 'Hi Jordan,'),
        h('p', {}, `Thanks for listing with ${name}. We’ll keep you posted on every showing and offer.`),
        v.emailSignature ? h('p', { class: 'preview-signature' }, v.emailSignature) : null,
        h('footer', { class: 'preview-footer' },
          h('p', {}, name),
          v.website ? h('p', {}, v.website) : null,
          v.postalAddress ? h('p', { class: 'preview-address' }, v.postalAddress) : h('p', { class: 'muted' }, 'No postal address yet — campaigns need one.'),
          v.smsPhone ? h('p', {}, v.smsPhone) : null)));
  }
  drawPreview();

  const form = h('form', { class: 'stack', novalidate: true },
    alert.root,
    FIELDS.map((f) => fields[f.name].root),
    h('div', { class: 'form-actions' }, save, saved));
  let previewTimer = null;
  form.addEventListener('input', () => {
    saved.textContent = '';
    clearTimeout(previewTimer);
    previewTimer = setTimeout(drawPreview, 120);
  });
  ctx.onLeave(() => clearTimeout(previewTimer));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFormErrors({ fields, alert });
    saved.textContent = '';
    await busy(save, async () => {
      try {
        const result = await api.branding.put(agentId, values());
        fill(result ?? (await api.branding.get(agentId)));
        saved.textContent = 'Settings saved.';
        announce('Branding saved.');
        const r = await api.routes(agentId).catch(() => null);
        if (r) {
          fromAddress = addressOf(r.email?.from) ?? fromAddress;
          viaAgent = r.email?.via === 'agent';
          document.dispatchEvent(new CustomEvent('herald:routes-changed'));
        }
        drawPreview();
      } catch (err) {
        showFormError(err, { fields, alert });
      }
    });
  });

  replace(panel,
    h('div', { class: 'split' },
      h('div', { class: 'card' },
        h('h2', { class: 'card-title' }, 'Your brand'),
        h('p', { class: 'muted' }, 'Buyers and sellers see these details on every message, whichever account sends it.'),
        form),
      h('section', { class: 'card preview-card', 'aria-labelledby': 'brand-preview-title' },
        h('h2', { class: 'card-title', id: 'brand-preview-title' }, 'Preview'),
        h('p', { class: 'muted' }, 'How a welcome email to a seller looks with these details.'),
        preview)));
}

// "Name <a@b.c>" → "a@b.c".
function addressOf(from) {
  if (!from) return null;
  const m = String(from).match(/<([^>]+)>/);
  return m ? m[1] : String(from);
}
