// The providers' official Node SDKs as referees for `herald sandbox`: each SDK, pointed at
// the sandbox as provider-specs/README.md describes, must succeed on a valid send (and the
// sandbox must record it with the right fields), get the provider's error for an invalid
// request, and get the provider's auth error for a revoked key.
//
// Run: cd tests/node && node --test sdk_sandbox.test.mjs
// The sandbox is started as `$HERALD_BIN sandbox --listen 127.0.0.1:0` (HERALD_BIN defaults
// to build/herald, then build-sandbox/herald, at the repository root), or an already running
// one is used when HERALD_SANDBOX_URL is set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { randomUUID } from 'node:crypto';

import { Resend } from 'resend';
import sgMail from '@sendgrid/mail';
import Mailgun from 'mailgun.js';
import FormData from 'form-data';
import twilio from 'twilio';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TWILIO_SID = 'AC0123456789abcdef0123456789abcdef';
const TWILIO_TOKEN = 'sandbox-auth-token-1234';

let sandbox; // the child process, when we started it
let base; // e.g. http://127.0.0.1:40123

function heraldBinary() {
  if (process.env.HERALD_BIN) return process.env.HERALD_BIN;
  for (const dir of ['build', 'build-sandbox']) {
    const candidate = path.join(repo, dir, 'herald');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('set HERALD_BIN to the herald binary (or HERALD_SANDBOX_URL to a running sandbox)');
}

// Starts the sandbox and resolves with the URL it prints.
function startSandbox() {
  return new Promise((resolve, reject) => {
    const child = spawn(heraldBinary(), ['sandbox', '--listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`sandbox did not start; stdout: ${out}`)), 15000);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`sandbox exited with ${code}; stdout: ${out}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/sandbox listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
  });
}

before(async () => {
  if (process.env.HERALD_SANDBOX_URL) {
    base = process.env.HERALD_SANDBOX_URL.replace(/\/$/, '');
  } else {
    ({ child: sandbox, url: base } = await startSandbox());
  }
});

after(() => {
  if (sandbox) {
    sandbox.removeAllListeners('exit');
    sandbox.kill('SIGTERM');
  }
});

// Recorded messages for one recipient.
async function recorded(to) {
  const res = await fetch(`${base}/sandbox/messages?to=${encodeURIComponent(to)}`);
  assert.equal(res.status, 200);
  return (await res.json()).items;
}

const unique = (name) => `${name}-${randomUUID().slice(0, 8)}@example.com`;

// --- Resend ---

test('resend SDK: send is accepted and recorded', async () => {
  const resend = new Resend('re_sdk_test_key_a1b2', { baseUrl: base });
  const to = unique('resend');
  const { data, error } = await resend.emails.send(
    {
      from: 'Sunset Properties <noreply@platform.com>',
      to: [to],
      subject: 'Welcome to Sunset',
      html: '<p>Hello</p>',
      text: 'Hello',
      replyTo: 'lisa@sunsetprops.com',
      headers: { 'List-Unsubscribe': '<https://herald.local/u/1>' },
      tags: [{ name: 'herald_message_id', value: 'hm-resend-1' }],
    },
    { idempotencyKey: `key-${to}` },
  );
  assert.equal(error, null);
  assert.match(data.id, /^[0-9a-f-]{36}$/);
  const [m, ...rest] = await recorded(to);
  assert.equal(rest.length, 0);
  assert.equal(m.provider, 'resend');
  assert.equal(m.account, '\u2026a1b2');
  assert.equal(m.from, 'Sunset Properties <noreply@platform.com>');
  assert.equal(m.to, to);
  assert.equal(m.replyTo, 'lisa@sunsetprops.com');
  assert.equal(m.subject, 'Welcome to Sunset');
  assert.equal(m.html, '<p>Hello</p>');
  assert.equal(m.text, 'Hello');
  assert.equal(m.headers['List-Unsubscribe'], '<https://herald.local/u/1>');
  assert.equal(m.idempotencyKey, `key-${to}`);
  assert.equal(m.heraldMessageId, 'hm-resend-1');
  assert.equal(m.providerMessageId, data.id);
});

test('resend SDK: batch is accepted and each email recorded', async () => {
  const resend = new Resend('re_sdk_test_key_a1b2', { baseUrl: base });
  const recipients = [unique('batch'), unique('batch')];
  const { data, error } = await resend.batch.send(
    recipients.map((to) => ({ from: 'a@platform.com', to, subject: 'Hi', text: 'Hi' })),
  );
  assert.equal(error, null);
  assert.equal(data.data.length, 2);
  for (const [i, to] of recipients.entries()) {
    const items = await recorded(to);
    assert.equal(items.length, 1);
    assert.equal(items[0].providerMessageId, data.data[i].id);
  }
});

test('resend SDK: a missing field is a validation error naming it', async () => {
  const resend = new Resend('re_sdk_test_key_a1b2', { baseUrl: base });
  const { data, error } = await resend.emails.send({ from: 'a@platform.com', subject: 'x', text: 'x' });
  assert.equal(data, null);
  assert.equal(error.name, 'missing_required_field');
  assert.equal(error.statusCode, 422);
  assert.match(error.message, /`to`/);
});

test('resend SDK: a revoked key is invalid_api_key', async () => {
  const resend = new Resend('revoked_re_key_0000', { baseUrl: base });
  const to = unique('revoked');
  const { error } = await resend.emails.send({ from: 'a@platform.com', to, subject: 'x', text: 'x' });
  assert.equal(error.name, 'invalid_api_key');
  assert.equal(error.statusCode, 403);
  assert.equal((await recorded(to)).length, 0);
});

// --- SendGrid ---

function sendgrid(key) {
  // setApiKey() resets baseUrl, so it must come first (provider-specs README).
  sgMail.setApiKey(key);
  sgMail.client.setDefaultRequest('baseUrl', `${base}/`);
  return sgMail;
}

test('sendgrid SDK: send is accepted (202, X-Message-Id) and recorded', async () => {
  const to = unique('sendgrid');
  const [response] = await sendgrid('SG.sdk-test.key-c3d4').send({
    to: { email: to, name: 'Buyer' },
    from: { email: 'matt@wrightrealty.com', name: 'Wright Realty' },
    replyTo: 'matt@wrightrealty.com',
    subject: 'New listing',
    text: 'Plain',
    html: '<p>Html</p>',
    headers: { 'List-Unsubscribe': '<https://herald.local/u/2>' },
    customArgs: { herald_message_id: 'hm-sendgrid-1' },
  });
  assert.equal(response.statusCode, 202);
  const messageId = response.headers['x-message-id'];
  assert.ok(messageId);
  const [m] = await recorded(to);
  assert.equal(m.provider, 'sendgrid');
  assert.equal(m.account, '\u2026c3d4');
  assert.equal(m.from, 'Wright Realty <matt@wrightrealty.com>');
  assert.equal(m.to, `Buyer <${to}>`);
  assert.equal(m.replyTo, 'matt@wrightrealty.com');
  assert.equal(m.subject, 'New listing');
  assert.equal(m.text, 'Plain');
  assert.equal(m.html, '<p>Html</p>');
  assert.equal(m.headers['List-Unsubscribe'], '<https://herald.local/u/2>');
  assert.equal(m.providerMessageId, messageId);
  // The SDK puts customArgs at the top level (an object, unlike the spec's string type).
  assert.equal(m.heraldMessageId, 'hm-sendgrid-1');
});

test('sendgrid SDK: missing content is a 400 naming the field', async () => {
  await assert.rejects(
    sendgrid('SG.sdk-test.key-c3d4').send({ to: unique('sg-bad'), from: 'a@platform.com', subject: 'x' }),
    (err) => {
      assert.equal(err.code, 400);
      const fields = err.response.body.errors.map((e) => e.field);
      assert.ok(fields.includes('content'), JSON.stringify(err.response.body));
      return true;
    },
  );
});

test('sendgrid SDK: a revoked key is 401', async () => {
  const to = unique('sg-revoked');
  await assert.rejects(
    sendgrid('revoked.SG.key').send({ to, from: 'a@platform.com', subject: 'x', text: 'x' }),
    (err) => {
      assert.equal(err.code, 401);
      assert.ok(err.response.body.errors[0].message);
      return true;
    },
  );
  assert.equal((await recorded(to)).length, 0);
});

// --- Mailgun ---

const mailgun = (key) => new Mailgun(FormData).client({ username: 'api', key, url: base });

test('mailgun SDK: send is accepted and each recipient recorded', async () => {
  const to = [unique('mailgun'), unique('mailgun')];
  const result = await mailgun('key-sdk-test-e5f6').messages.create('mg.example.com', {
    from: 'Wright Realty <matt@mg.example.com>',
    to,
    subject: 'Open house',
    text: 'Plain',
    html: '<p>Html</p>',
    'h:Reply-To': 'matt@wrightrealty.com',
    'v:herald_message_id': 'hm-mailgun-1',
  });
  assert.equal(result.status, 200);
  assert.equal(result.message, 'Queued. Thank you.');
  assert.match(result.id, /^<.+@mg\.example\.com>$/);
  for (const address of to) {
    const [m] = await recorded(address);
    assert.equal(m.provider, 'mailgun');
    assert.equal(m.account, '\u2026e5f6');
    assert.equal(m.from, 'Wright Realty <matt@mg.example.com>');
    assert.equal(m.replyTo, 'matt@wrightrealty.com');
    assert.equal(m.subject, 'Open house');
    assert.equal(m.text, 'Plain');
    assert.equal(m.html, '<p>Html</p>');
    assert.equal(m.heraldMessageId, 'hm-mailgun-1');
    assert.equal(m.providerMessageId, result.id);
  }
});

test("mailgun SDK: a missing 'to' is a 400 naming it", async () => {
  await assert.rejects(
    mailgun('key-sdk-test-e5f6').messages.create('mg.example.com', {
      from: 'a@mg.example.com',
      subject: 'x',
      text: 'x',
    }),
    (err) => {
      assert.equal(err.status, 400);
      assert.match(err.details, /'to' parameter is missing/);
      return true;
    },
  );
});

test('mailgun SDK: a revoked key is 401 Forbidden', async () => {
  const to = unique('mg-revoked');
  await assert.rejects(
    mailgun('revoked-key-0000').messages.create('mg.example.com', {
      from: 'a@mg.example.com',
      to,
      subject: 'x',
      text: 'x',
    }),
    (err) => {
      assert.equal(err.status, 401);
      assert.match(`${err.details} ${err.message}`, /Forbidden/);
      return true;
    },
  );
  assert.equal((await recorded(to)).length, 0);
});

// --- Twilio ---

function twilioClient(token = TWILIO_TOKEN) {
  const client = twilio(TWILIO_SID, token);
  client.api.baseUrl = base; // leave edge/region unset: they rewrite the host
  return client;
}

test('twilio SDK: send is accepted (201) and recorded', async () => {
  const to = '+1555' + String(Date.now()).slice(-7);
  const message = await twilioClient().messages.create({
    to,
    from: '+15017122661',
    body: 'Open house Saturday',
    statusCallback: 'https://herald.local/webhooks/twilio?message=hm-twilio-1',
  });
  assert.match(message.sid, /^SM[0-9a-f]{32}$/);
  assert.equal(message.status, 'queued');
  assert.equal(message.accountSid, TWILIO_SID);
  const [m] = await recorded(to);
  assert.equal(m.provider, 'twilio');
  assert.equal(m.account, TWILIO_SID);
  assert.equal(m.from, '+15017122661');
  assert.equal(m.to, to);
  assert.equal(m.body, 'Open house Saturday');
  assert.equal(m.heraldMessageId, 'hm-twilio-1');
  assert.equal(m.providerMessageId, message.sid);
});

test('twilio SDK: a missing body is error 21602', async () => {
  await assert.rejects(
    twilioClient().messages.create({ to: '+15558675310', from: '+15017122661' }),
    (err) => {
      assert.equal(err.status, 400);
      assert.equal(err.code, 21602);
      return true;
    },
  );
});

test('twilio SDK: a revoked token is 401 with code 20003', async () => {
  const to = '+1555' + String(Date.now() + 1).slice(-7);
  await assert.rejects(
    twilioClient('revoked-token').messages.create({ to, from: '+15017122661', body: 'x' }),
    (err) => {
      assert.equal(err.status, 401);
      assert.equal(err.code, 20003);
      return true;
    },
  );
  assert.equal((await recorded(to)).length, 0);
});
