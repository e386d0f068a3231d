// The baseline a user would otherwise write: the providers' official Node SDKs (resend,
// @sendgrid/mail, mailgun.js, twilio), one API call per message, a bounded number in flight,
// pointed at `herald sandbox` the way provider-specs/README.md ("Node SDKs against a local
// emulator") and tests/node/sdk_sandbox.test.mjs do; for SMTP, nodemailer's pooled SMTP
// transport (pool: true, maxConnections C, maxMessages Infinity) to a local SMTP server.
//
//   node bench/baseline.mjs --sandbox http://127.0.0.1:PORT [--messages 20000]
//        [--concurrency 64] [--providers resend,sendgrid,mailgun,smtp,twilio] [--content FILE]
//        [--smtp 127.0.0.1:PORT] [--smtp-connections 5]
//
// --content is a JSON file {resend|sendgrid|mailgun|smtp: {from, replyTo?, subject, html?,
// text?, headers?}, twilio: {from, body}} so the SDKs send the same messages Herald sent
// (bench.mjs writes it from what the sandbox and smtp-sink received); without it a built-in
// sample is used. --sandbox is needed for the HTTP providers, --smtp for smtp (an SMTP server
// without TLS; the login is offered only if the server announces AUTH). For smtp, --concurrency
// is how many sendMail calls are outstanding: the pool queues what its connections are not
// carrying.
// Progress goes to stderr; the result is one JSON object on stdout:
//   {"concurrency", "messages", "providers": {"resend": {"sent", "failed", "seconds",
//    "messagesPerSecond", "firstError", "warmup", "cpuSeconds"}, ...}}
// The SDKs and nodemailer are imported from tests/node/node_modules (scripts/install-deps.sh
// --test installs them).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(repo, 'tests', 'node', 'package.json'));

export const TWILIO_SID = 'AC' + '0123456789abcdef'.repeat(2);
const TWILIO_TOKEN = 'baseline-auth-token-1234';

const DEFAULT_CONTENT = {
  email: {
    from: 'Bench Realty <agent@benchrealty.com>',
    replyTo: 'agent@benchrealty.com',
    subject: 'Your market update from Bench Realty',
    html: '<!doctype html><html><body><p>Hi there,</p><p>Here is your market update.</p></body></html>',
    text: 'Hi there,\n\nHere is your market update.',
    headers: {},
  },
  twilio: {
    from: '+13105551234',
    body: "Bench Realty: you're invited to an open house. Reply STOP to opt out.",
  },
};

// The i-th recipient (unique per run and provider, so the sandbox counts each once).
function emailTo(provider, i, tag) {
  return `baseline-${provider}-${tag}-${i}@bench.example.com`;
}
function phoneTo(i) {
  // +1 415 3xx xxxx: valid NANP numbers, distinct from the ones Herald's campaign uses.
  return '+1415' + String(3000000 + (i % 7000000));
}

function loadSdks() {
  try {
    const { Resend } = require('resend');
    const sgMail = require('@sendgrid/mail');
    const mailgunModule = require('mailgun.js');
    const Mailgun = mailgunModule.default ?? mailgunModule;
    const FormData = require('form-data');
    const twilio = require('twilio');
    return { Resend, sgMail, Mailgun, FormData, twilio };
  } catch (e) {
    throw new Error(
      `cannot load the provider SDKs from tests/node/node_modules (${e.message}); ` +
        'run scripts/install-deps.sh --test or (cd tests/node && npm install)',
    );
  }
}

// nodemailer's pooled SMTP transport to `server` ("host:port"): what a Node user would write to
// send a campaign through their own mail server. Plain SMTP (the benchmark's server is on
// loopback), the same login Herald is given, connections reused for every message.
function smtpTransport({ server, connections }) {
  let nodemailer;
  try {
    nodemailer = require('nodemailer');
  } catch (e) {
    throw new Error(`cannot load nodemailer from tests/node/node_modules (${e.message}); run scripts/install-deps.sh --test or (cd tests/node && npm install)`);
  }
  const at = server.lastIndexOf(':');
  return nodemailer.createTransport({
    host: server.slice(0, at),
    port: Number(server.slice(at + 1)),
    secure: false,
    ignoreTLS: true,
    auth: { user: 'bench', pass: 'baseline-password' },
    pool: true,
    maxConnections: connections,
    maxMessages: Infinity,
  });
}

// A sender per provider: (i) => Promise that resolves when the provider accepted message i.
// With `smtp` ({server, connections}) also senders.smtp, through a pool closed by close().
export function makeSenders(base, content = {}, tag = Date.now().toString(36), smtp = null) {
  const { Resend, sgMail, Mailgun, FormData, twilio } = loadSdks();
  const email = (p) => ({ ...DEFAULT_CONTENT.email, ...(content[p] ?? {}) });
  const senders = {};
  const closers = [];
  Object.defineProperty(senders, 'close', { value: () => closers.forEach((close) => close()) });

  {
    const c = email('resend');
    const resend = new Resend('re_baseline_key_0001', { baseUrl: base });
    senders.resend = async (i) => {
      const { error } = await resend.emails.send({
        from: c.from,
        to: [emailTo('resend', i, tag)],
        subject: c.subject,
        html: c.html || undefined,
        text: c.text || undefined,
        replyTo: c.replyTo || undefined,
        headers: c.headers && Object.keys(c.headers).length ? c.headers : undefined,
      });
      if (error) throw new Error(`resend: ${error.statusCode ?? ''} ${error.name}: ${error.message}`);
    };
  }
  {
    const c = email('sendgrid');
    // setApiKey() resets baseUrl, so it comes first (provider-specs README).
    sgMail.setApiKey('SG.baseline.key-0002');
    sgMail.client.setDefaultRequest('baseUrl', `${base}/`);
    senders.sendgrid = async (i) => {
      const [response] = await sgMail.send({
        to: emailTo('sendgrid', i, tag),
        from: c.from,
        replyTo: c.replyTo || undefined,
        subject: c.subject,
        text: c.text || undefined,
        html: c.html || undefined,
        headers: c.headers && Object.keys(c.headers).length ? c.headers : undefined,
      });
      if (response.statusCode !== 202) throw new Error(`sendgrid: status ${response.statusCode}`);
    };
  }
  {
    const c = email('mailgun');
    const mg = new Mailgun(FormData).client({ username: 'api', key: 'key-baseline-0003', url: base });
    const domain = c.domain || 'mg.benchrealty.com';
    senders.mailgun = async (i) => {
      const fields = {
        from: c.from,
        to: [emailTo('mailgun', i, tag)],
        subject: c.subject,
      };
      if (c.text) fields.text = c.text;
      if (c.html) fields.html = c.html;
      if (c.replyTo) fields['h:Reply-To'] = c.replyTo;
      for (const [k, v] of Object.entries(c.headers ?? {})) {
        if (!(c.replyTo && k.toLowerCase() === 'reply-to')) fields[`h:${k}`] = v;
      }
      const result = await mg.messages.create(domain, fields);
      if (!result || !result.id) throw new Error(`mailgun: unexpected answer ${JSON.stringify(result)}`);
    };
  }
  if (smtp) {
    const c = email('smtp');
    const transport = smtpTransport(smtp);
    closers.push(() => transport.close());
    senders.smtp = async (i) => {
      const info = await transport.sendMail({
        from: c.from,
        to: emailTo('smtp', i, tag),
        replyTo: c.replyTo || undefined,
        subject: c.subject,
        text: c.text || undefined,
        html: c.html || undefined,
        headers: c.headers && Object.keys(c.headers).length ? c.headers : undefined,
      });
      if (!info.accepted?.length) throw new Error(`smtp: not accepted: ${info.response}`);
    };
  }
  {
    const c = { ...DEFAULT_CONTENT.twilio, ...(content.twilio ?? {}) };
    const client = twilio(TWILIO_SID, TWILIO_TOKEN);
    client.api.baseUrl = base; // leave edge/region unset: they rewrite the host
    senders.twilio = async (i) => {
      const m = await client.messages.create({ to: phoneTo(i), from: c.from, body: c.body });
      if (!m.sid) throw new Error('twilio: no sid in the answer');
    };
  }
  return senders;
}

// Runs send(0..count-1) with at most `concurrency` in flight; returns counts and wall time.
export async function runPool(send, count, concurrency, offset = 0) {
  let next = 0;
  let sent = 0;
  let failed = 0;
  let firstError = null;
  const started = process.hrtime.bigint();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      try {
        await send(offset + i);
        sent++;
      } catch (e) {
        failed++;
        firstError ??= String(e?.message ?? e).slice(0, 300);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { sent, failed, seconds, messagesPerSecond: sent / seconds, firstError };
}

export async function runBaseline({
  base,
  messages = 20000,
  concurrency = 64,
  providers = ['resend', 'sendgrid', 'mailgun', 'twilio'],
  content = {},
  smtp = null,
  log = (s) => process.stderr.write(s + '\n'),
}) {
  const senders = makeSenders(base, content, undefined, smtp);
  const out = { concurrency, messages, providers: {} };
  try {
    for (const p of providers) {
      if (!senders[p]) throw new Error(p === 'smtp' ? 'smtp needs --smtp HOST:PORT' : `unknown provider ${p}`);
      // Warm-up (connections, JIT), not counted: 2% of the run, at least 200 messages.
      const warm = Math.max(200, Math.floor(messages / 50));
      await runPool(senders[p], warm, concurrency, 10_000_000);
      const cpu = process.cpuUsage();
      const r = await runPool(senders[p], messages, concurrency);
      const { user, system } = process.cpuUsage(cpu);
      // This process's CPU time during the measured part: is the client the limit?
      out.providers[p] = { ...r, warmup: warm, cpuSeconds: (user + system) / 1e6 };
      log(
        `  baseline ${p.padEnd(8)} ${r.sent} sent, ${r.failed} failed in ${r.seconds.toFixed(2)} s ` +
          `= ${Math.round(r.messagesPerSecond)} msg/s` + (r.firstError ? `  (first error: ${r.firstError})` : ''),
      );
    }
  } finally {
    senders.close();
  }
  return out;
}

function parseArgs(argv) {
  const a = { messages: 20000, concurrency: 64, providers: ['resend', 'sendgrid', 'mailgun', 'twilio'], smtpConnections: 5 };
  for (let i = 0; i < argv.length; i++) {
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
      return argv[++i];
    };
    switch (argv[i]) {
      case '--sandbox': a.base = v().replace(/\/$/, ''); break;
      case '--messages': a.messages = Number(v()); break;
      case '--concurrency': a.concurrency = Number(v()); break;
      case '--providers': a.providers = v().split(',').filter(Boolean); break;
      case '--content': a.content = JSON.parse(readFileSync(v(), 'utf8')); break;
      case '--smtp': a.smtpServer = v(); break;
      case '--smtp-connections': a.smtpConnections = Number(v()); break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!a.base && a.providers.some((p) => p !== 'smtp')) throw new Error('--sandbox URL is required (a running `herald sandbox`)');
  if (a.providers.includes('smtp') && !a.smtpServer) throw new Error('--smtp HOST:PORT is required for smtp (a running SMTP server)');
  if (!(Number.isInteger(a.smtpConnections) && a.smtpConnections > 0)) throw new Error('--smtp-connections must be a positive integer');
  a.smtp = a.smtpServer ? { server: a.smtpServer, connections: a.smtpConnections } : null;
  if (!(a.messages > 0) || !(a.concurrency > 0)) throw new Error('--messages and --concurrency must be positive');
  return a;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const args = parseArgs(process.argv.slice(2));
    const result = await runBaseline(args);
    process.stdout.write(JSON.stringify(result) + '\n');
  } catch (e) {
    process.stderr.write(`baseline: ${e.stack ?? e}\n`);
    process.exit(1);
  }
}
