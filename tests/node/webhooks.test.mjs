// Delivery webhooks refereed by the providers' own libraries: events for messages Herald really
// sent (through `herald sandbox`) are signed the way each provider signs them — Resend with
// Svix's `standardwebhooks`, SendGrid with Node's crypto checked first by
// `@sendgrid/eventwebhook`, Mailgun with Node's crypto (mailgun.js has no verifier), Twilio
// with `twilio`'s own signature function — and posted to Herald's receivers. Herald must take
// each, show it on the message's timeline and move its status, and refuse every tampered copy
// (changed body, wrong key, stale, replayed, another agent's receiver) recording nothing.
//
// Run: HERALD_BIN=build/herald node --test tests/node/webhooks.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { randomBytes, randomUUID, generateKeyPairSync, createSign, createHmac } from 'node:crypto';

import { Webhook } from 'standardwebhooks';
import { EventWebhook } from '@sendgrid/eventwebhook';
import twilio from 'twilio';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PLATFORM_TOKEN = randomBytes(24).toString('hex');

// The agents' accounts, each with its webhook key given by hand (so Herald registers nothing).
const RESEND_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const SENDGRID_KEYS = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const SENDGRID_PUBLIC = SENDGRID_KEYS.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const MAILGUN_SIGNING_KEY = randomBytes(16).toString('hex');
const TWILIO_SID = `AC${randomBytes(16).toString('hex')}`;
const TWILIO_TOKEN = randomBytes(16).toString('hex');

const children = [];
let dataDir;
let base; // Herald
let sandboxUrl;

function heraldBinary() {
  if (process.env.HERALD_BIN) return path.resolve(process.env.HERALD_BIN);
  const candidate = path.join(repo, 'build', 'herald');
  if (existsSync(candidate)) return candidate;
  throw new Error('set HERALD_BIN to the herald binary');
}

// Starts `herald <args>` and resolves with the URL its "listening on" line prints.
function start(args, env, pattern) {
  const child = spawn(heraldBinary(), args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start: ${out}`)), 20000);
    child.on('exit', (code) => reject(new Error(`${args[0]} exited with ${code}: ${out}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
}

before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'herald-webhooks-'));
  sandboxUrl = await start(['sandbox', '--listen', '127.0.0.1:0'], process.env, /sandbox listening on (http:\/\/\S+)/);
  const env = { ...process.env };
  delete env.HERALD_PUBLIC_URL;
  Object.assign(env, {
    HERALD_DATA_DIR: dataDir,
    HERALD_PLATFORM_TOKEN: PLATFORM_TOKEN,
    HERALD_ALLOW_INSECURE_PUBLIC_URL: '1',
    RESEND_API_KEY: 're_platform_key_0001',
    EMAIL_FROM: 'noreply@platform.com',
    TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
    TWILIO_AUTH_TOKEN: 'platform_auth_token_0000',
    TWILIO_PHONE_NUMBER: '+14155550100',
    HERALD_RESEND_BASE_URL: sandboxUrl,
    HERALD_SENDGRID_BASE_URL: sandboxUrl,
    HERALD_MAILGUN_BASE_URL: sandboxUrl,
    HERALD_TWILIO_BASE_URL: sandboxUrl,
  });
  base = await start(['serve', '--listen', '127.0.0.1:0'], env, /herald listening on (http:\/\/\S+)/);
});

after(() => {
  for (const child of children) {
    child.removeAllListeners('exit');
    child.kill('SIGTERM');
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function api(method, route, body) {
  const res = await fetch(`${base}/api/v1${route}`, {
    method,
    headers: { Authorization: `Bearer ${PLATFORM_TOKEN}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function eventually(what, check, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// An agent with `email` (and `sms`) integrations, and one listing whose seller gets the
// welcome messages; resolves with the agent id and its sent messages by channel.
async function agentWithSentWelcome(label, email, sms) {
  const agent = await api('POST', '/agents', { name: `${label} Agent`, email: `${label}-${randomUUID()}@realty.example` });
  assert.equal(agent.status, 201, JSON.stringify(agent.body));
  const id = agent.body.id;
  const connected = await api('PUT', `/agents/${id}/integrations/email`, email);
  assert.equal(connected.status, 200, JSON.stringify(connected.body));
  assert.equal(connected.body.tracking.status, 'on', JSON.stringify(connected.body.tracking));
  assert.equal(connected.body.tracking.setUpBy, 'you');
  assert.equal(connected.body.webhookSecret, undefined, 'the key is never shown back');
  if (sms) assert.equal((await api('PUT', `/agents/${id}/integrations/sms`, sms)).status, 200);
  const seller = `seller-${label}@example.com`;
  const listing = await api('POST', `/agents/${id}/listings`, {
    address: '12 Harbor Way', price: 650000, seller: { name: 'Sam Seller', email: seller, phone: '+14155552671' },
  });
  assert.equal(listing.status, 201, JSON.stringify(listing.body));
  const messages = await eventually('welcome messages sent', async () => {
    const items = (await api('GET', `/agents/${id}/messages`)).body.items;
    // Sent, or already delivered (the sandbox posts the platform's Twilio callbacks itself).
    const done = items.filter((m) => ['sent', 'delivered'].includes(m.status) && m.providerMessageId);
    return done.length === items.length && items.length >= (sms ? 2 : 1) ? items : null;
  });
  return { id, email: messages.find((m) => m.channel === 'email'), sms: messages.find((m) => m.channel === 'sms') };
}

async function message(messageId) {
  const r = await api('GET', `/messages/${messageId}`);
  assert.equal(r.status, 200);
  return r.body;
}

async function post(url, headers, body) {
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text() };
}

// Posts every tampered copy, expects each refused, then checks nothing was recorded.
async function assertAllRefused(messageId, copies) {
  const before = (await message(messageId)).deliveryEvents.length;
  for (const [what, send] of copies) {
    const r = await send();
    assert.ok([401, 403, 404, 406].includes(r.status), `${what}: answered ${r.status} ${r.text}`);
  }
  await new Promise((r) => setTimeout(r, 300)); // the tracking worker would have applied them
  const after = await message(messageId);
  assert.equal(after.deliveryEvents.length, before, 'a refused post recorded an event');
}

test('Resend: an event signed with standardwebhooks is taken; tampered copies are refused', async () => {
  const { id, email } = await agentWithSentWelcome('resend', {
    provider: 'resend', apiKey: 're_agent_key_0001', fromEmail: 'agent@resend-realty.example', webhookSecret: RESEND_SECRET,
  });
  const url = `${base}/webhooks/resend/${id}`;
  const event = (type, extra = {}) => JSON.stringify({
    type, created_at: new Date().toISOString(),
    data: { email_id: email.providerMessageId, to: [email.to], subject: 'Welcome', tags: { herald_message_id: email.id }, ...extra },
  });
  const signed = (body, { secret = RESEND_SECRET, at = new Date(), msgId = `msg_${randomUUID()}` } = {}) => {
    const signature = new Webhook(secret).sign(msgId, at, body);
    return { 'Content-Type': 'application/json', 'svix-id': msgId, 'svix-timestamp': String(Math.floor(at / 1000)), 'svix-signature': signature };
  };
  const delivered = event('email.delivered');
  // The referee agrees the post is genuine before Herald sees it.
  const headers = signed(delivered);
  // (Standard Webhooks names Svix's headers webhook-*; Resend sends them as svix-*.)
  assert.doesNotThrow(() => new Webhook(RESEND_SECRET).verify(delivered, {
    'webhook-id': headers['svix-id'], 'webhook-timestamp': headers['svix-timestamp'], 'webhook-signature': headers['svix-signature'],
  }));
  const ok = await post(url, headers, delivered);
  assert.ok(ok.status >= 200 && ok.status < 300, `${ok.status} ${ok.text}`);
  const m = await eventually('delivered on the timeline', async () => {
    const got = await message(email.id);
    return got.deliveryEvents.some((e) => e.type === 'delivered') ? got : null;
  });
  assert.equal(m.status, 'delivered');
  assert.equal(m.deliveryEvents[0].providerName, 'Resend');

  const bounced = event('email.bounced', { bounce: { type: 'Permanent', subType: 'General', message: 'mailbox does not exist' } });
  const good = signed(bounced);
  await assertAllRefused(email.id, [
    ['changed body', () => post(url, good, bounced.replace('Permanent', 'Transient'))],
    ['wrong key', () => post(url, signed(bounced, { secret: `whsec_${randomBytes(24).toString('base64')}` }), bounced)],
    ['stale', () => post(url, signed(bounced, { at: new Date(Date.now() - 10 * 60 * 1000) }), bounced)],
    ['unsigned', () => post(url, { 'Content-Type': 'application/json' }, bounced)],
    ['another agent', () => post(`${base}/webhooks/resend/${randomUUID()}`, good, bounced)],
  ]);
  assert.equal((await message(email.id)).status, 'delivered');
});

test('SendGrid: an ECDSA-signed array that @sendgrid/eventwebhook accepts is taken; tampered copies are refused', async () => {
  const { id, email } = await agentWithSentWelcome('sendgrid', {
    provider: 'sendgrid', apiKey: 'SG.agent_key_0001.abcdefghijklmnop', fromEmail: 'agent@sendgrid-realty.example', webhookSecret: SENDGRID_PUBLIC,
  });
  const url = `${base}/webhooks/sendgrid/${id}`;
  const now = Math.floor(Date.now() / 1000);
  const events = (type, extra = {}) => JSON.stringify([{
    email: email.to.replace(/^.*</, '').replace(/>$/, ''), timestamp: now, event: type, sg_event_id: randomUUID(),
    sg_message_id: `${email.providerMessageId}.filterdrecv-1`, herald_message_id: email.id, ...extra,
  }]);
  const sign = (body, timestamp = String(now), key = SENDGRID_KEYS.privateKey) => {
    const signer = createSign('SHA256');
    signer.update(timestamp + body);
    return { 'Content-Type': 'application/json', 'X-Twilio-Email-Event-Webhook-Signature': signer.sign(key).toString('base64'), 'X-Twilio-Email-Event-Webhook-Timestamp': timestamp };
  };
  const delivered = events('delivered');
  const headers = sign(delivered);
  const ew = new EventWebhook();
  assert.ok(ew.verifySignature(ew.convertPublicKeyToECDSA(SENDGRID_PUBLIC), delivered,
    headers['X-Twilio-Email-Event-Webhook-Signature'], headers['X-Twilio-Email-Event-Webhook-Timestamp']));
  const ok = await post(url, headers, delivered);
  assert.ok(ok.status >= 200 && ok.status < 300, `${ok.status} ${ok.text}`);
  await eventually('delivered', async () => (await message(email.id)).status === 'delivered');

  const bounce = events('bounce', { type: 'bounce', reason: '550 5.1.1 no such user' });
  const good = sign(bounce);
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  await assertAllRefused(email.id, [
    ['changed body', () => post(url, good, bounce.replace('no such user', 'mailbox full'))],
    ['wrong key', () => post(url, sign(bounce, String(now), other), bounce)],
    ['changed timestamp', () => post(url, { ...good, 'X-Twilio-Email-Event-Webhook-Timestamp': String(now + 1) }, bounce)],
    ['unsigned', () => post(url, { 'Content-Type': 'application/json' }, bounce)],
  ]);
  assert.equal((await message(email.id)).status, 'delivered');
});

test('Mailgun: an HMAC-signed event is taken once; a replayed token and tampered copies are refused', async () => {
  const { id, email } = await agentWithSentWelcome('mailgun', {
    provider: 'mailgun', apiKey: 'key-agent0001agent0001agent0001ab', fromEmail: 'agent@mg.mailgun-realty.example',
    domain: 'mg.mailgun-realty.example', webhookSecret: MAILGUN_SIGNING_KEY,
  });
  const url = `${base}/webhooks/mailgun/${id}`;
  const body = (event, extra = {}, { key = MAILGUN_SIGNING_KEY, timestamp = String(Math.floor(Date.now() / 1000)), token = randomBytes(25).toString('hex') } = {}) => {
    const signature = createHmac('sha256', key).update(timestamp + token).digest('hex');
    return JSON.stringify({
      signature: { timestamp, token, signature },
      'event-data': {
        event, timestamp: Date.now() / 1000, id: randomUUID(), recipient: email.to.replace(/^.*</, '').replace(/>$/, ''),
        message: { headers: { 'message-id': email.providerMessageId.replace(/^</, '').replace(/>$/, '') } },
        'user-variables': { herald_message_id: email.id }, ...extra,
      },
    });
  };
  const json = { 'Content-Type': 'application/json' };
  const delivered = body('delivered');
  const ok = await post(url, json, delivered);
  assert.equal(ok.status, 200, ok.text);
  await eventually('delivered', async () => (await message(email.id)).status === 'delivered');

  const failed = body('failed', { severity: 'permanent', reason: 'bounce' });
  await assertAllRefused(email.id, [
    ['replayed token', () => post(url, json, delivered)],
    ['changed signature', () => post(url, json, failed.replace(/"signature":"[0-9a-f]/, '"signature":"g'))],
    ['wrong key', () => post(url, json, body('failed', { severity: 'permanent' }, { key: randomBytes(16).toString('hex') }))],
    ['stale', () => post(url, json, body('failed', { severity: 'permanent' }, { timestamp: String(Math.floor(Date.now() / 1000) - 3600) }))],
    ['unknown agent (406 stops Mailgun retrying)', async () => {
      const r = await post(`${base}/webhooks/mailgun/${randomUUID()}`, json, failed);
      assert.equal(r.status, 406);
      return r;
    }],
  ]);
  assert.equal((await message(email.id)).status, 'delivered');
});

test('Twilio: a status callback signed by twilio is taken; tampered copies are refused', async () => {
  const { id, sms } = await agentWithSentWelcome('twilio', {
    provider: 'resend', apiKey: 're_agent_key_0002', fromEmail: 'agent@twilio-realty.example', webhookSecret: RESEND_SECRET,
  }, { provider: 'twilio', accountSid: TWILIO_SID, authToken: TWILIO_TOKEN, phoneNumber: '+14155550123' });
  assert.ok(sms, 'the welcome SMS was sent');
  // The callback Herald gave Twilio with the send, as the sandbox recorded it.
  const url = `${base}/webhooks/twilio/${id}/status?message=${encodeURIComponent(sms.id)}`;
  const fields = (status, extra = {}) => ({
    MessageSid: sms.providerMessageId, MessageStatus: status, AccountSid: TWILIO_SID, From: '+14155550123', To: sms.to, ...extra,
  });
  const send = (params, token = TWILIO_TOKEN, signedUrl = url) => post(url, {
    'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(token, signedUrl, params),
  }, new URLSearchParams(params).toString());
  // "read" (delivered, and read on the handset): a status the sandbox's own callbacks for this
  // message never send, so this post is a new event whatever the sandbox posted first.
  const delivered = fields('read');
  assert.ok(twilio.validateRequest(TWILIO_TOKEN, twilio.getExpectedTwilioSignature(TWILIO_TOKEN, url, delivered), url, delivered));
  const ok = await send(delivered);
  assert.ok(ok.status >= 200 && ok.status < 300, `${ok.status} ${ok.text}`);
  await eventually('delivered', async () => (await message(sms.id)).status === 'delivered');

  const undelivered = fields('undelivered', { ErrorCode: '30005' });
  await assertAllRefused(sms.id, [
    ['wrong token', () => send(undelivered, randomBytes(16).toString('hex'))],
    ['signed for another message', () => send(undelivered, TWILIO_TOKEN, url.replace(sms.id, randomUUID()))],
    ['changed field', async () => {
      const signature = twilio.getExpectedTwilioSignature(TWILIO_TOKEN, url, undelivered);
      return post(url, { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature },
        new URLSearchParams({ ...undelivered, ErrorCode: '30003' }).toString());
    }],
  ]);
  assert.equal((await message(sms.id)).status, 'delivered');
});
