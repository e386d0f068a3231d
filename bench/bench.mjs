// Herald's benchmark driver (issues #4 and #11). Run it through bench/run.sh, which builds the
// Release binary first; directly: HERALD_BIN=build-release/herald node bench/bench.mjs [options].
//
// In one run, on this machine, against `herald sandbox` (and Postfix's smtp-sink for SMTP):
//   1. an email campaign via each provider (Resend, SendGrid, Mailgun) to N recipients:
//      messages/s from launch until every message is sent/failed/suppressed in Herald, peak RSS
//      (VmHWM after a clear_refs reset, and the highest VmRSS sampled) of `herald serve`, and what
//      the sandbox recorded (count, duplicates); and one via SMTP to smtp-sink on a free loopback
//      port (security "none", maxConnections C), which counts every recipient it receives
//      (duplicates, missing) and whose own CPU time is reported (it must not be the limit);
//   2. an SMS campaign via Twilio (one request per message), beside the loopback ceiling measured
//      with wrk against the sandbox's Twilio endpoint (bench/wrk_twilio.lua);
//   3. the SDK baseline (bench/baseline.mjs): the providers' official Node SDKs, one call per
//      message, 64 in flight, same sandbox; Herald ÷ baseline per provider; for SMTP, nodemailer's
//      pooled transport (C connections, maxMessages Infinity, 64 sendMail calls outstanding)
//      sending as many messages as the campaign, with the content Herald sent, to the same
//      smtp-sink; Herald ÷ nodemailer;
//   4. welcome-email latency (listing created → accepted by the provider), idle and while the
//      Resend campaign runs.
// Results: bench/results/<UTC timestamp>.json and a table on stdout.
//
// Options:
//   --recipients N        email campaign size per provider (default 100000)
//   --full                1,000,000 recipients (the targets are stated for 1M)
//   --sms-recipients N    SMS campaign size (default 20000, 100000 with --full)
//   --baseline-messages M messages per provider for the SDK baseline (default 20000; 0 skips
//                         every baseline; nodemailer sends --recipients messages)
//   --concurrency C       SDK baseline requests in flight (default 64)
//   --latency-samples S   idle welcome-latency samples (default 200)
//   --providers LIST      which campaigns to run (default resend,sendgrid,mailgun,smtp,twilio)
//   --smtp-connections C  connections per account for the SMTP campaign (the integration's
//                         maxConnections) and for nodemailer's pool (default 5, 1-50)
//   --poll-ms MS          how often Herald's campaign counts are polled before the sandbox has
//                         received every message (default 1000; then every 50 ms)
//   --keep                keep the temporary data directory and logs
//   --events              delivery tracking on versus off (issue #12), instead of the above: the
//                         Resend campaign (--recipients) twice, each on a fresh Herald, first
//                         with HERALD_TRACKING=off, then on (Herald registers its receiver with
//                         the sandbox, which posts a signed `delivered` event per message while
//                         the campaign runs); msg/s on ÷ off, events the receiver acknowledged
//                         per second, its latency as the sandbox timed each post (p50/p99), and
//                         how long until every event was applied to its message
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, openSync, closeSync, chmodSync, existsSync, constants as fsConstants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');

// ---------------------------------------------------------------- arguments

const PROVIDERS = ['resend', 'sendgrid', 'mailgun', 'smtp', 'twilio'];

function parseArgs(argv) {
  const a = {
    recipients: 100000,
    smsRecipients: null,
    baselineMessages: 20000,
    concurrency: 64,
    latencySamples: 200,
    full: false,
    keep: false,
    providers: [...PROVIDERS],
    smtpConnections: 5,
    pollMs: 1000,
    events: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${argv[i - 1]} needs a non-negative integer`);
      return v;
    };
    switch (argv[i]) {
      case '--full': a.full = true; a.recipients = 1000000; break;
      case '--recipients': a.recipients = num(); break;
      case '--sms-recipients': a.smsRecipients = num(); break;
      case '--baseline-messages': a.baselineMessages = num(); break;
      case '--concurrency': a.concurrency = num(); break;
      case '--latency-samples': a.latencySamples = num(); break;
      case '--keep': a.keep = true; break;
      case '--events': a.events = true; break;
      case '--poll-ms': a.pollMs = Math.max(10, num()); break;
      case '--smtp-connections': a.smtpConnections = num(); break;
      case '--providers':
        a.providers = String(argv[++i] ?? '').split(',').filter(Boolean);
        for (const p of a.providers) if (!PROVIDERS.includes(p)) throw new Error(`unknown provider ${p}`);
        break;
      case '-h': case '--help':
        process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\nimport ')[0] + '\n');
        process.exit(0);
      default: throw new Error(`unknown argument ${argv[i]} (see --help)`);
    }
  }
  if (a.recipients < 1) throw new Error('--recipients must be at least 1');
  // The range Herald's SMTP integration accepts for maxConnections.
  if (a.smtpConnections < 1 || a.smtpConnections > 50) throw new Error('--smtp-connections must be from 1 to 50');
  // SMS goes one request per message; 20k (100k with --full) gives a stable rate without
  // doubling the run's length.
  a.smsRecipients ??= a.full ? 100000 : Math.min(a.recipients, 20000);
  return a;
}

// ---------------------------------------------------------------- small helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint()) / 1e6; // ms, monotonic
const hex = (n) => randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n);
const log = (s) => process.stdout.write(s + '\n');
const fmt = (n, d = 0) => (n == null || Number.isNaN(n) ? '—' : Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  const rank = Math.ceil((p / 100) * sorted.length); // nearest rank
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

function procStatus(pid) {
  const out = {};
  try {
    for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const m = line.match(/^(VmRSS|VmHWM):\s+(\d+) kB/);
      if (m) out[m[1]] = Number(m[2]) * 1024;
    }
  } catch {
    /* process gone */
  }
  return out;
}

// Resets the peak RSS (VmHWM) to the current RSS.
function clearRefs(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch (e) {
    log(`  warning: cannot reset peak RSS via /proc/${pid}/clear_refs (${e.code}); VmHWM is since start`);
    return false;
  }
}

const mb = (bytes) => (bytes == null ? null : bytes / (1024 * 1024));

// ---------------------------------------------------------------- processes

const children = new Set();
function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}
function killChildren() {
  for (const c of children) {
    try {
      c.kill('SIGTERM');
    } catch {
      /* already gone */
    }
  }
}
process.on('exit', killChildren);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`\n${sig}: stopping the servers`);
    killChildren();
    process.exit(130);
  });
}

function startSandbox(bin, maxBodies, logFile, extraArgs = []) {
  return new Promise((resolve, reject) => {
    const err = openSync(logFile, 'a');
    const child = track(
      spawn(bin, ['sandbox', '--listen', '127.0.0.1:0', '--max-bodies', String(maxBodies), ...extraArgs], {
        stdio: ['ignore', 'pipe', err],
      }),
    );
    closeSync(err);
    let out = '';
    const timer = setTimeout(() => reject(new Error(`sandbox did not start in 15 s; see ${logFile}`)), 15000);
    child.on('error', reject);
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}; see ${logFile}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/sandbox listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve({ child, url: m[1] });
      }
    });
  });
}

async function startServe(bin, env, url, logFile) {
  const fd = openSync(logFile, 'a');
  const child = track(spawn(bin, ['serve'], { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] }));
  closeSync(fd);
  let exited = null;
  child.once('exit', (code) => (exited = code));
  const deadline = now() + 20000;
  while (now() < deadline) {
    if (exited !== null) throw new Error(`herald serve exited with ${exited}; see ${logFile}`);
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.ok) return child;
    } catch {
      /* not listening yet */
    }
    await sleep(50);
  }
  throw new Error(`herald serve not ready after 20 s; see ${logFile}`);
}

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => {
      stderr += c;
      if (opts.echoStderr) process.stdout.write(c);
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve({ stdout, stderr }) : reject(new Error(`${cmd} exited with ${code}: ${stderr.slice(-2000)}`))));
  });
}

// ---------------------------------------------------------------- SMTP sink

// Postfix's smtp-sink (scripts/install-deps.sh --test installs postfix for it; no Postfix daemon
// is configured or started): an event-driven SMTP server that throws every mail away.
const SMTP_SINK = existsSync('/usr/sbin/smtp-sink') ? '/usr/sbin/smtp-sink' : 'smtp-sink';

// bench/baseline.mjs sends to baseline-<provider>-<run>-<i>@bench.example.com.
const BASELINE_DOMAIN = 'bench.example.com';

// CPU seconds (user + system) a process has used so far.
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  } catch {
    return 100;
  }
})();

// Starts smtp-sink on a free loopback port and counts every recipient it receives.
//   -a  no AUTH in EHLO: smtp-sink answers AUTH with 250 (not 235/334), which libcurl takes as a
//       refused login (CURLE_LOGIN_DENIED); without the extension Herald (libcurl) and nodemailer
//       both skip the login they are configured with, and send.
//   -D  each complete transaction (smtp-sink's own X-Client-Addr … X-Rcpt-Args header lines,
//       then the message as received) is appended, whole, to a FIFO this process reads: every
//       recipient is counted and nothing is stored. smtp-sink writes its per-message temp file
//       next to the FIFO (unlinked at once).
//   -u nobody  required when running as root (smtp-sink drops privileges after binding).
async function startSmtpSink(dir, logFile) {
  const port = await freePort();
  const fifo = path.join(dir, 'dump');
  execFileSync('mkfifo', ['-m', '0666', fifo]);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // smtp-sink runs as nobody: it must reach the work dir and write in its own.
    chmodSync(path.dirname(dir), 0o711);
    chmodSync(dir, 0o777);
  }
  // Read-write, so the FIFO never reports end-of-file between the transactions smtp-sink opens
  // and closes it for.
  const reader = new net.Socket({ fd: openSync(fifo, fsConstants.O_RDWR | fsConstants.O_NONBLOCK), readable: true, writable: false });
  reader.setEncoding('latin1');

  const byRecipient = new Map(); // address → times received
  let messages = 0;
  let bytes = 0;
  let carry = '';
  let capture = null; // {from: message count at the mark, text}: the stream after a mark
  const kRcpt = '\nX-Rcpt-Args: ';
  reader.on('data', (chunk) => {
    bytes += chunk.length;
    if (capture && capture.text.length < 1 << 20) capture.text += chunk;
    // Scan for smtp-sink's recipient lines only (indexOf, not a line split: a campaign is a
    // few hundred MB); a line cut by the chunk's end is scanned again with the next chunk.
    const text = carry + chunk;
    let pos = 0;
    let pending = -1; // a recipient line without its end yet
    for (;;) {
      const at = text.indexOf(kRcpt, pos);
      if (at < 0) break;
      const end = text.indexOf('\n', at + kRcpt.length);
      if (end < 0) {
        pending = at;
        break;
      }
      const args = text.slice(at + kRcpt.length, end);
      const address = (args.match(/<([^>]*)>/) ?? [null, args.split(' ')[0]])[1].toLowerCase();
      byRecipient.set(address, (byRecipient.get(address) ?? 0) + 1);
      messages++;
      pos = end;
    }
    // Keep what may still be the start of a recipient line: the pending one, else a tail
    // shorter than the marker.
    carry = pending >= 0 ? text.slice(pending) : text.slice(Math.max(pos, text.length - kRcpt.length + 1));
  });

  const err = openSync(logFile, 'a');
  const args = ['-a', ...(asRoot ? ['-u', 'nobody'] : []), '-D', fifo, `127.0.0.1:${port}`, '256'];
  const child = track(spawn(SMTP_SINK, args, { stdio: ['ignore', err, err] }));
  closeSync(err);
  let exited = null;
  let spawnError = null;
  child.once('exit', (code) => (exited = code));
  child.once('error', (e) => (spawnError = e));
  // Ready when it takes a connection.
  try {
    const deadline = now() + 10000;
    for (;;) {
      if (spawnError) throw new Error(`cannot start ${SMTP_SINK} (${spawnError.code}); install postfix: scripts/install-deps.sh --test`);
      if (exited !== null) throw new Error(`smtp-sink exited with ${exited}; see ${logFile}`);
      if (now() > deadline) throw new Error(`smtp-sink not listening after 10 s; see ${logFile}`);
      const ok = await new Promise((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
      if (ok) break;
      await sleep(50);
    }
  } catch (e) {
    reader.destroy();
    throw e;
  }

  return {
    child,
    port,
    command: `smtp-sink ${args.join(' ').replace(fifo, '<fifo>').replace(String(port), '<port>')}`,
    // A point to count from (messages so far, the sink's CPU) that also starts keeping the
    // stream, to return the first message after it.
    mark() {
      capture = { text: '' };
      return { messages, cpuSeconds: cpuSeconds(child.pid) };
    },
    messagesSince: (m) => messages - m.messages,
    cpuSeconds: () => cpuSeconds(child.pid),
    // Messages, distinct recipients and bytes at one recipient domain.
    summary(domain) {
      let n = 0;
      let distinct = 0;
      const suffix = '@' + domain.toLowerCase();
      for (const [address, count] of byRecipient) {
        if (!address.endsWith(suffix)) continue;
        n += count;
        distinct++;
      }
      return { messages: n, distinct };
    },
    totals: () => ({ messages, bytes }),
    // The first message received after the mark, parsed (see parseDumpedMessage).
    sampleSince() {
      const text = capture?.text ?? '';
      capture = null;
      const start = text.indexOf('X-Client-Addr: ');
      if (start < 0) return null;
      const next = text.indexOf('\nX-Client-Addr: ', start);
      return parseDumpedMessage(text.slice(start, next < 0 ? undefined : next + 1));
    },
    async stop() {
      reader.destroy();
      if (exited === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  };
}

// A header block and what follows its blank line.
function splitHead(s) {
  const at = s.indexOf('\n\n');
  return at < 0 ? [s, ''] : [s.slice(0, at), s.slice(at + 2)];
}

// A header block as [name, value] pairs, folded lines joined.
function headerFields(block) {
  const out = [];
  for (const line of block.split('\n')) {
    if (/^[ \t]/.test(line) && out.length) out[out.length - 1][1] += ' ' + line.trim();
    else if (line.includes(':')) out.push([line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]);
  }
  return out;
}

const headerValue = (fields, name) => fields.find(([k]) => k.toLowerCase() === name)?.[1] ?? '';
const unhex = (s) => s.replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));

// RFC 2047 encoded words decoded (GMime encodes non-ASCII names and subjects, and header words
// too long to fold); the space between two adjacent encoded words is not part of the text.
function decodeWords(v) {
  return v.replace(/(\?=)\s+(?==\?)/g, '$1').replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, charset, enc, data) =>
    enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : Buffer.from(unhex(data.replace(/_/g, ' ')), 'latin1').toString('utf8'),
  );
}

// A MIME part's content as text, its transfer encoding undone (UTF-8 assumed, as Herald sends).
function decodePart({ fields, body }) {
  const cte = headerValue(fields, 'content-transfer-encoding').toLowerCase();
  const text = body.replace(/\n$/, '');
  if (cte === 'base64') return Buffer.from(text, 'base64').toString('utf8');
  if (cte === 'quoted-printable') return Buffer.from(unhex(text.replace(/=\n/g, '')), 'latin1').toString('utf8');
  return Buffer.from(text, 'latin1').toString('utf8');
}

// One message as smtp-sink dumped it (LF line ends, dots unstuffed): smtp-sink's own header
// lines, then the message. Returns what a sender would pass to nodemailer to send the same
// message (from, replyTo, subject, text, html, the other headers Herald set) and its size.
function parseDumpedMessage(dump) {
  const [head, body] = splitHead(dump);
  const sinkOwn = /^(x-client-addr|x-client-proto|x-helo-args|x-mail-args|x-rcpt-args|received)$/i;
  const fields = headerFields(head).filter(([k]) => !sinkOwn.test(k));
  // The message itself starts after smtp-sink's three-line Received header.
  const lines = dump.split('\n');
  let first = lines.findIndex((l) => l.startsWith('Received: ')) + 1;
  while (lines[first]?.startsWith('\t')) first++;
  const message = lines.slice(first).join('\n').replace(/\n+$/, '\n');

  // Parts: multipart/alternative (text + HTML) or a single part.
  const parts = [];
  const type = headerValue(fields, 'content-type');
  const boundary = (type.match(/boundary="?([^";]+)"?/i) ?? [])[1];
  if (/^multipart\//i.test(type) && boundary) {
    for (const piece of body.split(`--${boundary}`).slice(1)) {
      if (piece.startsWith('--')) break;
      const [ph, pb] = splitHead(piece.replace(/^\n/, ''));
      parts.push({ fields: headerFields(ph), body: pb });
    }
  } else {
    parts.push({ fields, body });
  }
  const partOf = (subtype) => parts.find((p) => new RegExp(`^text/${subtype}`, 'i').test(headerValue(p.fields, 'content-type') || 'text/plain'));
  const text = partOf('plain');
  const html = partOf('html');
  const standard = /^(from|to|cc|reply-to|subject|date|message-id|mime-version|content-type|content-transfer-encoding)$/i;
  return {
    from: decodeWords(headerValue(fields, 'from')),
    replyTo: decodeWords(headerValue(fields, 'reply-to')),
    subject: decodeWords(headerValue(fields, 'subject')),
    text: text ? decodePart(text) : '',
    html: html ? decodePart(html) : '',
    headers: Object.fromEntries(fields.filter(([k]) => !standard.test(k)).map(([k, v]) => [k, decodeWords(v)])),
    // On the wire: CRLF line ends (smtp-sink drops the CRs).
    bytes: message.length + (message.match(/\n/g) ?? []).length,
  };
}

// ---------------------------------------------------------------- HTTP

function apiClient(base, token) {
  return async function api(method, p, body, { contentType = 'application/json', ok = [200, 201, 204] } = {}) {
    const headers = { Authorization: `Bearer ${token}` };
    let payload;
    if (body !== undefined) {
      headers['Content-Type'] = contentType;
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const r = await fetch(`${base}/api/v1${p}`, { method, headers, body: payload });
    const text = await r.text();
    const data = text ? JSON.parse(text) : null;
    if (!ok.includes(r.status)) throw new Error(`${method} ${p} → ${r.status}: ${text.slice(0, 800)}`);
    return data;
  };
}

async function getJson(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`GET ${url} → ${r.status}`);
  return r.json();
}

// ---------------------------------------------------------------- setup

const TWILIO_AGENT_SID = 'AC' + hex(32);
const TWILIO_AGENT_TOKEN = hex(32);

// Each email campaign's recipients are r<i>@<provider>.bench.example.com.
const recipientDomain = (provider) => `${provider}.bench.example.com`;
function emailCsv(n, domain) {
  const rows = ['name,email,role,consentEmail'];
  for (let i = 0; i < n; i++) rows.push(`Buyer ${i},r${i}@${domain},buyer,true`);
  return rows.join('\n') + '\n';
}
// +1 415 2xx xxxx: valid NANP numbers (libphonenumber), one per contact.
const smsPhone = (i) => '+1415' + String(2000000 + i);
function smsCsv(n) {
  const rows = ['name,phone,role,consentSms,timeZone'];
  for (let i = 0; i < n; i++) rows.push(`Buyer ${i},${smsPhone(i)},buyer,true,America/Los_Angeles`);
  return rows.join('\n') + '\n';
}

// `smtp` ({port, connections}) is where the SMTP agent's mail server listens and how many
// connections its integration allows.
async function createAgent(api, provider, { smtp } = {}) {
  const agent = await api('POST', '/agents', { name: `Bench ${provider}`, email: `bench-${provider}-${hex(6)}@benchrealty.com` });
  await api('PUT', `/agents/${agent.id}/branding`, {
    companyName: `Bench Realty (${provider})`,
    replyEmail: 'agent@benchrealty.com',
    smsPhone: '+13105551234',
    emailSignature: 'Pat Bench\nBench Realty',
    website: 'https://benchrealty.com',
    postalAddress: '100 Main St, Springfield, IL 62701',
  });
  let integration;
  if (provider === 'resend') integration = { provider, apiKey: `re_bench_${hex(16)}`, fromEmail: 'agent@benchrealty.com' };
  if (provider === 'sendgrid') integration = { provider, apiKey: `SG.bench.${hex(16)}`, fromEmail: 'agent@benchrealty.com' };
  if (provider === 'mailgun')
    integration = { provider, apiKey: `key-bench-${hex(16)}`, fromEmail: 'agent@mg.benchrealty.com', domain: 'mg.benchrealty.com', region: 'us' };
  // Herald requires a username and password even with security "none"; smtp-sink offers no
  // AUTH (see startSmtpSink), so they are configured but not used. Fields are strings.
  if (provider === 'smtp') {
    integration = {
      provider,
      host: '127.0.0.1',
      port: String(smtp.port),
      security: 'none',
      username: 'bench',
      password: hex(16),
      fromEmail: 'agent@benchrealty.com',
      maxConnections: String(smtp.connections),
    };
  }
  if (provider === 'twilio') {
    await api('PUT', `/agents/${agent.id}/integrations/sms`, {
      provider,
      accountSid: TWILIO_AGENT_SID,
      authToken: TWILIO_AGENT_TOKEN,
      phoneNumber: '+13105551234',
    });
  } else {
    await api('PUT', `/agents/${agent.id}/integrations/email`, integration);
  }
  const routes = await api('GET', `/agents/${agent.id}/routes`);
  return { id: agent.id, provider, routes };
}

async function importContacts(api, agent, csv, expected) {
  const t0 = now();
  const report = await api('POST', `/agents/${agent.id}/contacts/import`, csv, { contentType: 'text/csv' });
  const seconds = (now() - t0) / 1000;
  if (report.imported !== expected) {
    throw new Error(`import into ${agent.provider} agent: ${report.imported} imported of ${expected}: ${JSON.stringify(report).slice(0, 600)}`);
  }
  return { rows: expected, seconds, rowsPerSecond: expected / seconds };
}

async function pickTemplate(api, agentId, channel, preferred) {
  const list = await api('GET', `/agents/${agentId}/templates`);
  const ready = list.items.filter((t) => t.channel === channel && t.campaignReady && t.key !== 'seller_welcome');
  const t = ready.find((x) => x.key === preferred) ?? ready[0];
  if (!t) throw new Error(`no campaign-ready ${channel} template: ${JSON.stringify(list.items.map((x) => [x.key, x.channel, x.campaignReady]))}`);
  return t.key;
}

// ---------------------------------------------------------------- campaign

// Where a campaign's messages arrive, counted from just before its launch: the sandbox's
// counters for the HTTP providers, smtp-sink's dump for SMTP. received() is cheap (polled every
// 50 ms); finish() says what arrived (recorded, duplicates) and returns one message as sent.
function sandboxReceiver(sandboxUrl, provider) {
  let before = null;
  return {
    async start() {
      before = await getJson(`${sandboxUrl}/sandbox/stats`);
    },
    async received() {
      const st = await getJson(`${sandboxUrl}/sandbox/stats`);
      return st.byProvider[provider] - before.byProvider[provider];
    },
    async finish({ channel, sent, welcome }) {
      const after = await getJson(`${sandboxUrl}/sandbox/stats`);
      // One message as the provider received it, for wrk's request and the SDK baseline.
      const { items } = await getJson(`${sandboxUrl}/sandbox/messages?provider=${provider}&limit=500`);
      const sample = items.reverse().find((m) => email_address(m.to) !== WELCOME_TO) ?? null;
      // Welcome emails sampled during the campaign go through the same account: not campaign traffic.
      const recorded = after.byProvider[provider] - before.byProvider[provider] - welcome;
      const receipt = {
        recorded,
        duplicates: after.duplicates - before.duplicates,
        // Twilio requests carry no Herald message id (no StatusCallback), so the sandbox cannot
        // detect duplicates there; recorded − sent shows extra sends instead.
        duplicateDetection: channel === 'email',
        extraOverSent: recorded - sent,
      };
      return { key: 'sandbox', receipt, sample };
    },
  };
}

function sinkReceiver(sink, domain, expected) {
  let mark = null;
  return {
    async start() {
      mark = sink.mark();
    },
    async received() {
      return sink.messagesSince(mark);
    },
    async finish({ sent }) {
      const s = sink.summary(domain);
      return {
        key: 'sink',
        receipt: {
          recorded: s.messages,
          duplicates: s.messages - s.distinct,
          missing: Math.max(0, expected - s.distinct),
          duplicateDetection: true,
          extraOverSent: s.messages - sent,
          sinkCpuSeconds: sink.cpuSeconds() - mark.cpuSeconds,
        },
        sample: sink.sampleSince(mark),
      };
    },
  };
}

async function runCampaign(ctx, agent, { channel, template, listingId, expected, label, onRunning, receiver }) {
  const { api, servePid } = ctx;
  const c = await api('POST', `/agents/${agent.id}/campaigns`, { name: label, channel, template, listingId, audience: { roles: ['buyer'] } });
  await receiver.start();
  const hwmReset = clearRefs(servePid);
  const rssAtLaunch = procStatus(servePid).VmRSS ?? null;
  const cpuAtLaunch = cpuSeconds(servePid);
  let maxRss = rssAtLaunch ?? 0;
  const t0 = now();
  let state = await api('POST', `/agents/${agent.id}/campaigns/${c.id}/launch`);
  let done = false;
  let lastProgress = t0;
  let lastCount = -1;
  let sampler = null;
  if (onRunning) sampler = onRunning(() => done);
  let tDone = null;
  // GET …/campaigns/{cid} counts the campaign's messages under the store's lock, so polling it
  // every 100 ms slows the send path it measures (~20% at 30k, seen here). Instead: the
  // receiver's counters (cheap) every 50 ms; Herald every ctx.pollMs while the receiver has not
  // yet received the whole campaign, then every 50 ms until Herald has recorded every outcome.
  const pollMs = [];
  let lastHeraldPoll = -Infinity;
  while (!done) {
    await sleep(50);
    const s = procStatus(servePid);
    if (s.VmRSS > maxRss) maxRss = s.VmRSS;
    const near = (await receiver.received()) >= expected;
    if (!near && now() - lastHeraldPoll < ctx.pollMs) continue;
    lastHeraldPoll = now();
    const tPoll = now();
    state = await api('GET', `/agents/${agent.id}/campaigns/${c.id}`);
    pollMs.push(now() - tPoll);
    const k = state.counts;
    const finished = k.sent + k.failed + k.suppressed;
    if (state.counts.total > 0 && finished >= state.counts.total) {
      tDone = now();
      done = true;
      break;
    }
    if (finished !== lastCount) {
      lastCount = finished;
      lastProgress = now();
    } else if (now() - lastProgress > 60000) {
      done = true;
      throw new Error(`${label}: no progress for 60 s at ${finished}/${state.counts.total}: ${JSON.stringify(state.counts)}`);
    }
  }
  const seconds = (tDone - t0) / 1000;
  const serveCpuSeconds = cpuSeconds(servePid) - cpuAtLaunch;
  const status = procStatus(servePid);
  if (status.VmRSS > maxRss) maxRss = status.VmRSS;
  const samplerResult = sampler ? await sampler : null;
  const k = state.counts;
  const welcome = samplerResult ? samplerResult.measured : 0;
  const { key, receipt, sample } = await receiver.finish({ channel, sent: k.sent, welcome });
  return {
    label,
    provider: agent.provider,
    channel,
    template,
    campaignId: c.id,
    status: state.status,
    total: k.total,
    expected,
    sent: k.sent,
    failed: k.failed,
    suppressed: k.suppressed,
    seconds,
    messagesPerSecond: k.sent / seconds,
    peakRssBytes: status.VmHWM ?? null,
    peakRssSince: hwmReset ? 'launch (clear_refs)' : 'process start',
    maxSampledRssBytes: maxRss,
    rssAtLaunchBytes: rssAtLaunch,
    // CPU time of `herald serve` (all threads) from launch until every outcome was recorded.
    serveCpuSeconds,
    // How long each GET …/campaigns/{cid} took (it counts the campaign's messages under the
    // store's lock, so a slow one also slows the send path).
    progressPolls: { count: pollMs.length, meanMs: pollMs.reduce((a, b) => a + b, 0) / Math.max(1, pollMs.length), maxMs: Math.max(0, ...pollMs) },
    [key]: receipt,
    latency: samplerResult,
    sample,
  };
}

// ---------------------------------------------------------------- delivery tracking (--events)

// The Resend campaign twice, each on a fresh Herald over the same sandbox: tracking off, then
// on. With tracking on, the sandbox posts a signed `delivered` event per message to the
// receiver Herald registered, while the campaign is still sending; the run ends when Herald
// has applied every one (the campaign's results count them delivered).
async function trackingComparison({ args, bin, env, tmp, sandboxUrl, results }) {
  const sizeLabel = args.recipients >= 1000000 ? `${args.recipients / 1000000}M` : `${Math.round(args.recipients / 1000)}k`;
  const out = { provider: 'resend', recipients: args.recipients, off: null, on: null };
  for (const mode of ['off', 'on']) {
    const dataDir = path.join(tmp, `data-${mode}`);
    mkdirSync(dataDir);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const modeEnv = {
      ...env,
      HERALD_DATA_DIR: dataDir,
      HERALD_LISTEN: `127.0.0.1:${port}`,
      HERALD_PUBLIC_URL: url,
      HERALD_TRACKING: mode,
      // Receivers on plain http (loopback) are fine for a benchmark.
      HERALD_ALLOW_INSECURE_PUBLIC_URL: '1',
    };
    // The sandbox's counters (events posted, receiver latency) start again for each run.
    await fetch(`${sandboxUrl}/sandbox/reset`, { method: 'POST' });
    const serve = await startServe(bin, modeEnv, url, path.join(tmp, `serve-${mode}.log`));
    const api = apiClient(url, env.HERALD_PLATFORM_TOKEN);
    const ctx = { api, sandboxUrl, servePid: serve.pid, pollMs: args.pollMs };
    log(`tracking ${mode}: herald serve ${url} (pid ${serve.pid})`);
    const agent = await createAgent(api, 'resend');
    if (mode === 'on') await trackingReady(api, agent);
    log(`  importing ${fmt(args.recipients)} contacts …`);
    results.imports[`resend-${mode}`] = await importContacts(api, agent, emailCsv(args.recipients, recipientDomain('resend')), args.recipients);
    const template = await pickTemplate(api, agent.id, 'email', 'market_update');
    log(`  resend: email campaign to ${fmt(args.recipients)}, tracking ${mode} …`);
    const events = mode === 'on' ? eventSampler(sandboxUrl) : null;
    const tLaunch = now();
    const c = await runCampaign(ctx, agent, {
      channel: 'email',
      template,
      expected: args.recipients,
      label: `resend email ${sizeLabel}, tracking ${mode}`,
      receiver: sandboxReceiver(sandboxUrl, 'resend'),
    });
    delete c.latency;
    delete c.sample;
    results.campaigns.push(c);
    log(`  ${fmt(c.messagesPerSecond)} msg/s, ${c.failed} failed, peak RSS ${fmt(mb(c.peakRssBytes), 1)} MB`);
    out[mode] = { messagesPerSecond: c.messagesPerSecond, seconds: c.seconds, peakRssBytes: c.peakRssBytes, serveCpuSeconds: c.serveCpuSeconds };
    if (events) {
      log('  waiting until every delivered event is applied …');
      out.on.events = await eventsApplied(ctx, agent, c, events, tLaunch);
      const e = out.on.events;
      log(`  ${fmt(e.acknowledged)} events acknowledged at ${fmt(e.acknowledgedPerSecond)}/s (receiver p99 ${fmt(e.receiver.p99Ms, 1)} ms), all applied ${fmt(e.appliedSeconds, 1)} s after launch`);
    }
    serve.kill('SIGTERM');
    await new Promise((r) => (serve.exitCode !== null ? r() : serve.once('exit', r)));
  }
  out.onOffRatio = out.on.messagesPerSecond / out.off.messagesPerSecond;
  return out;
}

// Waits until Herald has registered its receiver with the sandbox for the agent's account.
async function trackingReady(api, agent) {
  const deadline = now() + 20000;
  let tracking = null;
  while (now() < deadline) {
    tracking = (await api('GET', `/agents/${agent.id}/integrations`)).email?.tracking;
    if (tracking?.status === 'on') return;
    await sleep(100);
  }
  throw new Error(`delivery tracking did not come on for the Resend agent: ${JSON.stringify(tracking)}`);
}

// Samples the sandbox's event counters every 200 ms from now until stopped: when the first and
// the last event were acknowledged.
function eventSampler(sandboxUrl) {
  let stopped = false;
  const samples = [];
  const done = (async () => {
    while (!stopped) {
      const { events } = await getJson(`${sandboxUrl}/sandbox/stats`);
      samples.push({ t: now(), posted: events.posted });
      await sleep(200);
    }
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

// After the campaign: polls Herald's campaign results until every sent message is delivered
// (each event applied) or nothing moves for 60 s; the sandbox's counts and receiver latency.
async function eventsApplied(ctx, agent, c, sampler, tLaunch) {
  const { api, sandboxUrl } = ctx;
  let results = null;
  let last = -1;
  let lastMove = now();
  let tApplied = null;
  for (;;) {
    results = (await api('GET', `/agents/${agent.id}/campaigns/${c.campaignId}`)).results ?? {};
    const delivered = results.delivered ?? 0;
    if (delivered >= c.sent) {
      tApplied = now();
      break;
    }
    if (delivered !== last) {
      last = delivered;
      lastMove = now();
    } else if (now() - lastMove > 60000) {
      break;
    }
    await sleep(250);
  }
  await sampler.stop();
  const { events } = await getJson(`${sandboxUrl}/sandbox/stats`);
  // The final count is a sample too: the sandbox counts a post once its answer is back, which
  // may be after Herald applied it and the last sample was taken.
  sampler.samples.push({ t: now(), posted: events.posted });
  // From the sample before the first acknowledged event to the first that saw them all.
  const s = sampler.samples;
  const first = s.findIndex((x) => x.posted > 0);
  const all = s.findIndex((x) => x.posted >= events.posted);
  const span = first >= 0 && all >= 0 ? (s[all].t - s[Math.max(0, first - 1)].t) / 1000 : null;
  return {
    expected: c.sent,
    acknowledged: events.posted,
    failed: events.failed,
    retried: events.retried,
    overflow: events.overflow,
    acknowledgedSeconds: span,
    acknowledgedPerSecond: span ? events.posted / span : null,
    receiver: events.latency,
    applied: results.delivered ?? 0,
    appliedSeconds: tApplied === null ? null : (tApplied - tLaunch) / 1000,
    appliedPerSecond: tApplied === null ? null : (results.delivered ?? 0) / ((tApplied - tLaunch) / 1000),
    method: 'acknowledged: the sandbox\'s count of 2xx-answered posts, sampled every 200 ms; receiver latency: each post as the sandbox timed it (curl total time); applied: launch until GET …/campaigns/{cid} counts every sent message delivered',
  };
}

// ---------------------------------------------------------------- welcome latency

// Posts listings one at a time (~20 ms apart) for `agent` with the seller's email WELCOME_TO,
// and matches each welcome email to what the sandbox recorded (by Herald message id).
// Latency = sandbox receivedAt − Herald's createdAt of the message (both the system clock, ms).
const WELCOME_TO = 'welcome-latency@bench.example.com';
const email_address = (mailbox) => (mailbox.match(/<([^>]*)>/) ?? [null, mailbox])[1].trim();

async function welcomeLatency(ctx, agent, { samples = Infinity, stop = () => false, spacingMs = 20 }) {
  const { api, sandboxUrl } = ctx;
  const pending = new Map(); // herald message id → {createdAt, postStart}
  const done = [];
  let collecting = true;
  const collectOnce = async () => {
    if (!pending.size) return;
    const { items } = await getJson(`${sandboxUrl}/sandbox/messages?to=${encodeURIComponent(WELCOME_TO)}`);
    for (const m of items) {
      const p = pending.get(m.heraldMessageId);
      if (!p) continue;
      pending.delete(m.heraldMessageId);
      const received = Date.parse(m.receivedAt);
      done.push({ ms: received - p.createdAt, clientMs: received - p.postStart });
    }
  };
  const collector = (async () => {
    while (collecting) {
      await collectOnce();
      await sleep(200);
    }
  })();
  let posted = 0;
  while (posted < samples && !stop()) {
    const postStart = Date.now();
    const listing = await api('POST', `/agents/${agent.id}/listings`, {
      address: `${posted + 1} Benchmark Way`,
      price: 500000 + posted,
      seller: { name: 'Sam Seller', email: WELCOME_TO },
    });
    const m = listing.messages.find((x) => x.channel === 'email');
    pending.set(m.id, { createdAt: Date.parse(m.createdAt), postStart });
    posted++;
    await sleep(spacingMs);
  }
  // Wait for the last ones (at most 15 s).
  const deadline = now() + 15000;
  while (pending.size && now() < deadline) {
    await sleep(100);
  }
  collecting = false;
  await collector;
  await collectOnce();
  const ms = done.map((d) => d.ms).sort((a, b) => a - b);
  const clientMs = done.map((d) => d.clientMs).sort((a, b) => a - b);
  return {
    posted,
    measured: ms.length,
    missing: pending.size,
    p50Ms: percentile(ms, 50),
    p99Ms: percentile(ms, 99),
    maxMs: ms.length ? ms[ms.length - 1] : null,
    clientP50Ms: percentile(clientMs, 50),
    clientP99Ms: percentile(clientMs, 99),
  };
}

// ---------------------------------------------------------------- wrk ceiling

async function twilioCeiling(ctx, sample) {
  const url = `${ctx.sandboxUrl}/2010-04-01/Accounts/${TWILIO_AGENT_SID}/Messages.json`;
  const body = new URLSearchParams({ To: sample.to, From: sample.from, Body: sample.body }).toString();
  const auth = 'Basic ' + Buffer.from(`${TWILIO_AGENT_SID}:${TWILIO_AGENT_TOKEN}`).toString('base64');
  // One request first, to be sure the endpoint accepts exactly this request.
  const probe = await fetch(url, { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/x-www-form-urlencoded' }, body });
  if (probe.status !== 201) throw new Error(`wrk's request is refused by the sandbox: ${probe.status} ${await probe.text()}`);
  const args = ['-t2', '-c64', '-d5s', '-s', path.join(here, 'wrk_twilio.lua'), url];
  const { stdout } = await run('wrk', args, { env: { ...process.env, WRK_BODY: body, WRK_AUTH: auth } });
  const rps = Number((stdout.match(/Requests\/sec:\s+([\d.]+)/) ?? [])[1]);
  const non2xx = Number((stdout.match(/Non-2xx or 3xx responses:\s+(\d+)/) ?? [0, 0])[1]);
  const errors = (stdout.match(/Socket errors:[^\n]*/) ?? [null])[0];
  if (!rps) throw new Error(`cannot read wrk's output:\n${stdout}`);
  return { command: `wrk ${args.slice(0, 3).join(' ')} -s bench/wrk_twilio.lua <sandbox>/2010-04-01/Accounts/<sid>/Messages.json`, requestsPerSecond: rps, non2xx, socketErrors: errors, bodyBytes: body.length };
}

// ---------------------------------------------------------------- machine

function machineInfo() {
  let model = null;
  try {
    model = (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) ?? [])[1] ?? null;
  } catch {
    /* not Linux */
  }
  let commit = null;
  let dirty = null;
  try {
    commit = execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    dirty = execFileSync('git', ['-C', repo, 'status', '--porcelain', '--untracked-files=no', '--', 'src', 'CMakeLists.txt'], { encoding: 'utf8' }).trim() !== '';
  } catch {
    /* not a git checkout */
  }
  return {
    nproc: os.cpus().length,
    cpuModel: model,
    memoryBytes: os.totalmem(),
    kernel: os.release(),
    node: process.version,
    loadAverageAtStart: os.loadavg(),
    gitCommit: commit,
    srcDirty: dirty,
  };
}

// ---------------------------------------------------------------- report

const TARGETS = {
  emailMessagesPerSecond: 50000,
  fullCampaignSeconds: 20,
  smsCeilingRatio: 0.4,
  peakRssMB: 48,
  welcomeP99Ms: 100,
  emailVsBaseline: 10,
  trackingSlowdown: 0.2, // events on at most 20 % slower than off (issue #12)
  eventsPerSecond: 20000,
  receiverP99Ms: 50,
};

function verdict(ok) {
  return ok == null ? 'n/a' : ok ? 'pass' : 'MISS';
}

function buildChecks(r) {
  const checks = [];
  const size = r.settings.recipients;
  const scale = size >= 1000000 ? '' : ` (at ${fmt(size)}; target is for 1M)`;
  for (const c of r.campaigns.filter((x) => x.channel === 'email')) {
    // The throughput targets are for the HTTP providers' batch APIs; SMTP sends one mail per
    // transaction over a few connections: its rate and its ratio to nodemailer are shown as info.
    const smtp = c.provider === 'smtp';
    const info = smtp ? ` (info, ${r.settings.smtpConnections} conn)` : '';
    checks.push({
      what: `${c.provider} email msg/s${info}`,
      measured: c.messagesPerSecond,
      target: smtp ? '—' : `≥ ${fmt(TARGETS.emailMessagesPerSecond)}`,
      ok: smtp ? null : c.messagesPerSecond >= TARGETS.emailMessagesPerSecond,
      shown: fmt(c.messagesPerSecond),
    });
    const projected = size >= 1000000 ? c.seconds : 1000000 / c.messagesPerSecond;
    checks.push({
      what: `${c.provider} 1M campaign time${size >= 1000000 ? '' : ' (projected)'}${info}`,
      measured: projected,
      target: smtp ? '—' : `< ${TARGETS.fullCampaignSeconds} s`,
      ok: smtp ? null : projected < TARGETS.fullCampaignSeconds,
      shown: `${fmt(projected, 1)} s`,
    });
    checks.push({
      what: `${c.provider} peak RSS of serve${scale}`,
      measured: mb(c.peakRssBytes),
      target: `< ${TARGETS.peakRssMB} MB`,
      ok: mb(c.peakRssBytes) < TARGETS.peakRssMB,
      shown: `${fmt(mb(c.peakRssBytes), 1)} MB`,
    });
    const b = r.baseline?.providers?.[c.provider];
    if (b) {
      const ratio = c.messagesPerSecond / b.messagesPerSecond;
      checks.push({
        what: smtp ? `smtp Herald ÷ nodemailer pool${info}` : `${c.provider} Herald ÷ SDK baseline`,
        measured: ratio,
        target: smtp ? '—' : `≥ ${TARGETS.emailVsBaseline}×`,
        ok: smtp ? null : ratio >= TARGETS.emailVsBaseline,
        shown: `${fmt(ratio, smtp ? 2 : 1)}× (${fmt(c.messagesPerSecond)} vs ${fmt(b.messagesPerSecond)})`,
      });
    }
  }
  const sms = r.campaigns.find((x) => x.channel === 'sms');
  if (sms && r.smsCeiling) {
    const ratio = sms.messagesPerSecond / r.smsCeiling.requestsPerSecond;
    checks.push({
      what: 'SMS msg/s ÷ loopback ceiling (wrk)',
      measured: ratio,
      target: `≥ ${TARGETS.smsCeilingRatio * 100}%`,
      ok: ratio >= TARGETS.smsCeilingRatio,
      shown: `${fmt(ratio * 100, 1)}% (${fmt(sms.messagesPerSecond)} vs ${fmt(r.smsCeiling.requestsPerSecond)})`,
    });
    const b = r.baseline?.providers?.twilio;
    if (b) {
      checks.push({
        what: 'twilio Herald ÷ SDK baseline (info)',
        measured: sms.messagesPerSecond / b.messagesPerSecond,
        target: '—',
        ok: null,
        shown: `${fmt(sms.messagesPerSecond / b.messagesPerSecond, 1)}× (${fmt(sms.messagesPerSecond)} vs ${fmt(b.messagesPerSecond)})`,
      });
    }
  }
  const t = r.tracking;
  if (t?.on && t?.off) {
    const tscale = t.recipients >= 1000000 ? '' : ` (at ${fmt(t.recipients)}; target is for 1M)`;
    checks.push({
      what: `resend msg/s, tracking on ÷ off${tscale}`,
      measured: t.onOffRatio,
      target: `> ${1 - TARGETS.trackingSlowdown}`,
      ok: t.onOffRatio > 1 - TARGETS.trackingSlowdown,
      shown: `${fmt(t.onOffRatio, 2)} (${fmt(t.on.messagesPerSecond)} vs ${fmt(t.off.messagesPerSecond)})`,
    });
    const e = t.on.events;
    if (e) {
      checks.push({
        what: 'delivered events acknowledged per second',
        measured: e.acknowledgedPerSecond,
        target: `≥ ${fmt(TARGETS.eventsPerSecond)}`,
        ok: e.acknowledgedPerSecond >= TARGETS.eventsPerSecond && e.acknowledged === e.expected,
        shown: `${fmt(e.acknowledgedPerSecond)} (${fmt(e.acknowledged)} of ${fmt(e.expected)})`,
      });
      checks.push({
        what: 'receiver p99 (as the sandbox timed its posts)',
        measured: e.receiver?.p99Ms,
        target: `< ${TARGETS.receiverP99Ms} ms`,
        ok: e.receiver?.p99Ms != null && e.receiver.p99Ms < TARGETS.receiverP99Ms,
        shown: `${fmt(e.receiver?.p99Ms, 1)} ms (p50 ${fmt(e.receiver?.p50Ms, 1)}, max ${fmt(e.receiver?.maxMs, 1)})`,
      });
      checks.push({
        what: 'events applied per second (launch → all delivered, info)',
        measured: e.appliedPerSecond,
        target: '—',
        ok: null,
        shown: e.appliedSeconds == null ? `not all: ${fmt(e.applied)} of ${fmt(e.expected)}` : `${fmt(e.appliedPerSecond)} (${fmt(e.appliedSeconds, 1)} s)`,
      });
    }
  }
  if (r.welcomeLatency?.during) {
    const d = r.welcomeLatency.during;
    checks.push({
      what: `welcome p99 during ${r.welcomeLatency.duringLabel}`,
      measured: d.p99Ms,
      target: `< ${TARGETS.welcomeP99Ms} ms`,
      ok: d.p99Ms != null && d.p99Ms < TARGETS.welcomeP99Ms && d.missing === 0,
      shown: `${fmt(d.p99Ms)} ms (n=${d.measured}${d.missing ? `, ${d.missing} missing` : ''})`,
    });
  }
  return checks;
}

function printReport(r) {
  const line = (cols, widths) => cols.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  log('');
  log(`Herald benchmark — ${r.startedAt} — ${r.machine.cpuModel ?? '?'} (${r.machine.nproc} cores), commit ${r.machine.gitCommit?.slice(0, 10) ?? '?'}${r.machine.srcDirty ? ' (src modified)' : ''}`);
  log(`load average at start: ${r.machine.loadAverageAtStart.map((x) => x.toFixed(2)).join(' ')}; workers ${r.settings.env.HERALD_WORKERS ?? `${1 + Math.max(2, os.cpus().length)} (default: 1 + cores)`}; rate limits ${r.settings.env.HERALD_RATE_LIMIT_RESEND}/s per account (limiter out of the way)`);
  log('');
  const w = [30, 9, 7, 6, 8, 9, 10, 13, 14, 10];
  log(line(['campaign', 'total', 'failed', 'suppr', 'seconds', 'msg/s', 'peak RSS', 'max RSS seen', 'RSS at launch', 'dup/extra'], w));
  for (const c of r.campaigns) {
    const got = c.sink ?? c.sandbox;
    const dup = got.duplicateDetection ? `${got.duplicates}/${got.extraOverSent}` : `n/a/${got.extraOverSent}`;
    log(line([c.label, fmt(c.total), c.failed, c.suppressed, fmt(c.seconds, 2), fmt(c.messagesPerSecond), `${fmt(mb(c.peakRssBytes), 1)} MB`, `${fmt(mb(c.maxSampledRssBytes), 1)} MB`, `${fmt(mb(c.rssAtLaunchBytes), 1)} MB`, dup], w));
  }
  if (r.smsCeiling) log(line(['wrk → sandbox Twilio (ceiling)', '', '', '', '5', fmt(r.smsCeiling.requestsPerSecond), '', '', ''], w));
  if (r.baseline) {
    for (const [p, b] of Object.entries(r.baseline.providers)) {
      const label = p === 'smtp' ? `nodemailer pool (${b.connections} conn)` : `SDK baseline ${p} (c=${r.baseline.concurrency})`;
      log(line([label, fmt(b.sent + b.failed), b.failed, '', fmt(b.seconds, 2), fmt(b.messagesPerSecond), '', '', ''], w));
    }
  }
  // What smtp-sink received (every recipient counted from its dump), and how busy it was.
  const smtpCampaign = r.campaigns.find((c) => c.sink);
  if (smtpCampaign) {
    log('');
    log(`smtp-sink (${r.settings.smtpSink}):`);
    const row = (who, got, seconds) =>
      log(`  ${who.padEnd(22)} ${fmt(got.recorded)} received, ${got.duplicates} duplicate(s), ${got.missing} missing; ${fmt(got.messageBytes)} B per message; sink CPU ${fmt(got.sinkCpuSeconds, 2)} s (${fmt((100 * got.sinkCpuSeconds) / seconds)}% of a core)`);
    row('Herald campaign', smtpCampaign.sink, smtpCampaign.seconds);
    log(`  ${''.padEnd(22)} herald serve CPU ${fmt(smtpCampaign.serveCpuSeconds, 2)} s (${fmt((100 * smtpCampaign.serveCpuSeconds) / smtpCampaign.seconds)}% of a core, ${fmt((1e6 * smtpCampaign.serveCpuSeconds) / smtpCampaign.sent)} µs per message)`);
    const b = r.baseline?.sinkRecorded?.smtp;
    const bp = r.baseline?.providers?.smtp;
    if (b && bp) {
      row(`nodemailer (+${fmt(bp.warmup)} warm-up)`, b, bp.seconds);
      log(`  ${''.padEnd(22)} nodemailer's process CPU ${fmt(bp.cpuSeconds, 2)} s (${fmt((100 * bp.cpuSeconds) / bp.seconds)}% of a core, ${fmt((1e6 * bp.cpuSeconds) / bp.sent)} µs per message)`);
    }
  }
  if (r.welcomeLatency) {
    log('');
    log('welcome email (listing created → accepted by the provider; Herald createdAt → sandbox receivedAt):');
    for (const [k, v] of [['idle', r.welcomeLatency.idle], [`during ${r.welcomeLatency.duringLabel}`, r.welcomeLatency.during]]) {
      if (!v) continue;
      log(`  ${k.padEnd(40)} p50 ${fmt(v.p50Ms)} ms  p99 ${fmt(v.p99Ms)} ms  max ${fmt(v.maxMs)} ms  (n=${v.measured}${v.missing ? `, ${v.missing} MISSING` : ''}; client POST→provider p50 ${fmt(v.clientP50Ms)} / p99 ${fmt(v.clientP99Ms)} ms)`);
    }
  }
  log('');
  const cw = [58, 36, 10, 5];
  log(line(['target', 'measured', 'target', ''], cw));
  for (const c of r.checks) log(line([c.what, c.shown, c.target, verdict(c.ok)], cw));
  if (r.warnings.length) {
    log('');
    for (const wmsg of r.warnings) log(`!!! ${wmsg}`);
  }
  log('');
  log(`results: ${path.relative(process.cwd(), r.resultsFile)}`);
}

// ---------------------------------------------------------------- main

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const bin = process.env.HERALD_BIN ? path.resolve(process.env.HERALD_BIN) : path.join(repo, 'build-release', 'herald');
  const startedAt = new Date().toISOString();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-'));
  const dataDir = path.join(tmp, 'data');
  mkdirSync(dataDir);
  log(`herald: ${bin}`);
  log(`work dir: ${tmp} (logs: serve.log, sandbox.log)`);
  const results = {
    startedAt,
    herald: bin,
    machine: machineInfo(),
    settings: {},
    imports: {},
    campaigns: [],
    smsCeiling: null,
    baseline: null,
    welcomeLatency: null,
    warnings: [],
  };

  let sink = null;
  try {
    // The sandbox keeps counts and duplicate detection for every message, plus the last 50k
    // bodies (enough to find each welcome email within the collector's 200 ms poll).
    const maxBodies = 50000;
    // HERALD_SANDBOX_BIN pins the provider stand-in while two Herald builds are compared.
    const sandboxBin = process.env.HERALD_SANDBOX_BIN ? path.resolve(process.env.HERALD_SANDBOX_BIN) : bin;
    if (sandboxBin !== bin) log(`sandbox: ${sandboxBin}`);
    // With --events every message's event may wait in the sandbox's queue while the campaign
    // outruns the receiver: room for all of them, so none is dropped.
    const sandboxArgs = args.events ? ['--event-queue', String(args.recipients + 10000)] : [];
    const { child: sandbox, url: sandboxUrl } = await startSandbox(sandboxBin, maxBodies, path.join(tmp, 'sandbox.log'), sandboxArgs);
    const port = await freePort();
    const token = `bench-${hex(32)}`;
    const env = {
      HERALD_PLATFORM_TOKEN: token,
      HERALD_DATA_DIR: dataDir,
      HERALD_LISTEN: `127.0.0.1:${port}`,
      HERALD_MASTER_KEY: randomBytes(32).toString('base64'),
      HERALD_RESEND_BASE_URL: sandboxUrl,
      HERALD_SENDGRID_BASE_URL: sandboxUrl,
      HERALD_MAILGUN_BASE_URL: sandboxUrl,
      HERALD_TWILIO_BASE_URL: sandboxUrl,
      // The maximum the config accepts: the token bucket must not be what is measured.
      HERALD_RATE_LIMIT_RESEND: '1000000',
      HERALD_RATE_LIMIT_SENDGRID: '1000000',
      HERALD_RATE_LIMIT_MAILGUN: '1000000',
      HERALD_RATE_LIMIT_TWILIO: '1000000',
      HERALD_RATE_LIMIT_SMTP: '1000000',
      // Quiet hours must not defer the SMS campaign.
      HERALD_SMS_SEND_WINDOW: '00:00-24:00',
      RESEND_API_KEY: `re_platform_${hex(16)}`,
      EMAIL_FROM: 'noreply@platform.example.com',
      TWILIO_ACCOUNT_SID: 'AC' + hex(32),
      TWILIO_AUTH_TOKEN: hex(32),
      TWILIO_PHONE_NUMBER: '+14155552671',
    };
    const secret = new Set(['HERALD_PLATFORM_TOKEN', 'HERALD_MASTER_KEY', 'RESEND_API_KEY', 'TWILIO_AUTH_TOKEN']);
    const recordedEnv = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, secret.has(k) ? '(random)' : k.endsWith('_BASE_URL') ? '(sandbox)' : k === 'HERALD_DATA_DIR' ? '(fresh temp dir)' : v]));
    for (const k of ['HERALD_WORKERS', 'HERALD_MAX_ATTEMPTS', 'HERALD_RETRY_BASE_MS']) if (process.env[k]) recordedEnv[k] = process.env[k];
    results.settings = {
      recipients: args.recipients,
      smsRecipients: args.smsRecipients,
      full: args.full,
      baselineMessages: args.baselineMessages,
      baselineConcurrency: args.concurrency,
      latencySamplesIdle: args.latencySamples,
      latencySpacingMs: 20,
      sandboxMaxBodies: maxBodies,
      progressPolling: `sandbox /sandbox/stats every 50 ms; GET campaign every ${args.pollMs} ms until the sandbox has received the whole campaign, then every 50 ms until sent+failed+suppressed = total`,
      providers: args.providers,
      smtpConnections: args.providers.includes('smtp') ? args.smtpConnections : null,
      env: recordedEnv,
    };
    if (args.events) {
      results.tracking = await trackingComparison({ args, bin, env, tmp, sandboxUrl, results });
    } else {
      const heraldUrl = `http://127.0.0.1:${port}`;
      const serve = await startServe(bin, env, heraldUrl, path.join(tmp, 'serve.log'));
      const api = apiClient(heraldUrl, token);
      const ctx = { api, sandboxUrl, servePid: serve.pid, pollMs: args.pollMs };
      log(`sandbox ${sandboxUrl} (pid ${sandbox.pid}), herald serve ${heraldUrl} (pid ${serve.pid})`);
      if (args.providers.includes('smtp')) {
        const sinkDir = path.join(tmp, 'smtp-sink');
        mkdirSync(sinkDir);
        sink = await startSmtpSink(sinkDir, path.join(tmp, 'smtp-sink.log'));
        results.settings.smtpSink = sink.command;
        log(`smtp-sink 127.0.0.1:${sink.port} (pid ${sink.child.pid}), ${args.smtpConnections} connection(s) for Herald and nodemailer`);
      }

      // Agents, each with its own integration, and their contacts.
      const agents = {};
      for (const p of ['resend', 'sendgrid', 'mailgun', 'twilio', ...(sink ? ['smtp'] : [])]) {
        agents[p] = await createAgent(api, p, { smtp: sink && { port: sink.port, connections: args.smtpConnections } });
        const route = p === 'twilio' ? agents[p].routes.sms : agents[p].routes.email;
        if (route?.provider !== p || route?.via !== 'agent') throw new Error(`${p} agent does not route via its own account: ${JSON.stringify(route)}`);
      }
      const emailProviders = ['resend', 'sendgrid', 'mailgun', 'smtp'].filter((p) => args.providers.includes(p));
      const withSms = args.providers.includes('twilio');
      for (const p of emailProviders) {
        log(`importing ${fmt(args.recipients)} contacts for the ${p} agent …`);
        results.imports[p] = await importContacts(api, agents[p], emailCsv(args.recipients, recipientDomain(p)), args.recipients);
        log(`  ${fmt(results.imports[p].rowsPerSecond)} rows/s`);
      }
      if (withSms) {
        log(`importing ${fmt(args.smsRecipients)} contacts for the twilio agent …`);
        results.imports.twilio = await importContacts(api, agents.twilio, smsCsv(args.smsRecipients), args.smsRecipients);
        log(`  ${fmt(results.imports.twilio.rowsPerSecond)} rows/s`);
      }
      const emailTemplate = await pickTemplate(api, agents.resend.id, 'email', 'market_update');
      const smsTemplate = await pickTemplate(api, agents.twilio.id, 'sms', 'open_house');
      results.settings.emailTemplate = emailTemplate;
      results.settings.smsTemplate = smsTemplate;
      // The open-house text shows a listing's address: its campaign is about a listing, created
      // now so that its seller's welcome email has gone before any campaign is counted.
      const smsListing = withSms
        ? await api('POST', `/agents/${agents.twilio.id}/listings`, { address: '12 Ocean Ave', price: 950000, seller: { name: 'Open House Seller', email: 'open-house-seller@bench.example.com' } })
        : null;

      // Welcome latency, idle (before any campaign).
      log(`welcome latency, idle (${args.latencySamples} listings) …`);
      // On the agent of the first email campaign (Resend by default), through its own account;
      // measured at the sandbox, so never the SMTP agent.
      const latencyProvider = emailProviders.find((p) => p !== 'smtp') ?? 'resend';
      const idle = await welcomeLatency(ctx, agents[latencyProvider], { samples: args.latencySamples });
      const sizeLabel = args.recipients >= 1000000 ? `${args.recipients / 1000000}M` : `${Math.round(args.recipients / 1000)}k`;
      const duringLabel = `${sizeLabel} ${latencyProvider} campaign`;
      results.welcomeLatency = { method: 'sandbox receivedAt − Herald message createdAt (both ms, same clock); client figures: from before the POST /listings', idle, duringLabel, during: null };

      // Email campaigns; welcome latency sampled during the Resend one.
      for (const p of emailProviders) {
        log(`${p}: email campaign to ${fmt(args.recipients)} …`);
        const c = await runCampaign(ctx, agents[p], {
          channel: 'email',
          template: emailTemplate,
          expected: args.recipients,
          label: `${p} email ${sizeLabel}`,
          onRunning: p === latencyProvider ? (isDone) => welcomeLatency(ctx, agents[p], { stop: isDone }) : null,
          receiver: p === 'smtp' ? sinkReceiver(sink, recipientDomain(p), args.recipients) : sandboxReceiver(sandboxUrl, p),
        });
        if (p === latencyProvider) {
          results.welcomeLatency.during = c.latency;
          delete c.latency;
        } else {
          delete c.latency;
        }
        results.campaigns.push(c);
        log(`  ${fmt(c.messagesPerSecond)} msg/s, ${c.failed} failed, peak RSS ${fmt(mb(c.peakRssBytes), 1)} MB`);
      }

      // SMS campaign.
      if (withSms) {
        log(`twilio: SMS campaign to ${fmt(args.smsRecipients)} …`);
        const sms = await runCampaign(ctx, agents.twilio, { channel: 'sms', template: smsTemplate, listingId: smsListing?.id, expected: args.smsRecipients, label: `twilio sms ${args.smsRecipients >= 1000000 ? args.smsRecipients / 1000000 + 'M' : Math.round(args.smsRecipients / 1000) + 'k'}`, receiver: sandboxReceiver(sandboxUrl, 'twilio') });
        delete sms.latency;
        results.campaigns.push(sms);
        log(`  ${fmt(sms.messagesPerSecond)} msg/s, ${sms.failed} failed`);
      }

      // What Herald sent (one campaign message per provider, as the sandbox recorded it), for
      // wrk's request and the SDK baseline's messages.
      const content = {};
      for (const c of results.campaigns) {
        const m = c.sample;
        delete c.sample;
        if (!m) continue;
        if (c.provider === 'smtp') {
          // Parsed from smtp-sink's dump already (parseDumpedMessage).
          const { bytes, ...message } = m;
          content.smtp = message;
          c.sink.messageBytes = bytes;
          continue;
        }
        content[c.provider] = c.provider === 'twilio'
          ? { from: m.from, body: m.body, to: m.to }
          : { from: m.from, replyTo: m.replyTo, subject: m.subject, html: m.html, text: m.text, headers: m.headers, domain: 'mg.benchrealty.com' };
      }

      // Loopback ceiling for the Twilio endpoint.
      if (withSms) {
        if (!content.twilio) throw new Error('the sandbox recorded no Twilio message to replay with wrk');
        log('wrk: loopback ceiling of the sandbox Twilio endpoint (-t2 -c64 -d5s) …');
        results.smsCeiling = await twilioCeiling(ctx, content.twilio);
        log(`  ${fmt(results.smsCeiling.requestsPerSecond)} req/s`);
      }

      // The baselines, each a separate Node process: the SDKs against the same sandbox, nodemailer
      // against the same smtp-sink.
      const contentFile = path.join(tmp, 'baseline-content.json');
      writeFileSync(contentFile, JSON.stringify(content));
      const baseline = (providers, messages, extra = []) =>
        run(process.execPath, [path.join(here, 'baseline.mjs'), '--sandbox', sandboxUrl, '--messages', String(messages), '--concurrency', String(args.concurrency), '--providers', providers.join(','), '--content', contentFile, ...extra], { echoStderr: true })
          .then(({ stdout }) => JSON.parse(stdout.trim().split('\n').pop()));
      const sdkProviders = args.providers.filter((p) => p !== 'smtp');
      if (args.baselineMessages > 0 && sdkProviders.length) {
        log(`SDK baseline: ${fmt(args.baselineMessages)} messages per provider, ${args.concurrency} in flight …`);
        const before = await getJson(`${sandboxUrl}/sandbox/stats`);
        results.baseline = await baseline(sdkProviders, args.baselineMessages);
        const after = await getJson(`${sandboxUrl}/sandbox/stats`);
        results.baseline.sandboxRecorded = Object.fromEntries(Object.keys(after.byProvider).map((k) => [k, after.byProvider[k] - before.byProvider[k]]));
      }
      // nodemailer sends as many messages as Herald's SMTP campaign did, through the same number
      // of connections.
      if (args.baselineMessages > 0 && sink) {
        log(`nodemailer baseline: ${fmt(args.recipients)} messages, pool of ${args.smtpConnections} connection(s), ${args.concurrency} sendMail calls outstanding …`);
        const mark = sink.mark();
        const r = await baseline(['smtp'], args.recipients, ['--smtp', `127.0.0.1:${sink.port}`, '--smtp-connections', String(args.smtpConnections)]);
        results.baseline ??= { concurrency: r.concurrency, messages: args.baselineMessages, providers: {} };
        results.baseline.providers.smtp = { ...r.providers.smtp, messages: args.recipients, connections: args.smtpConnections };
        const s = sink.summary(BASELINE_DOMAIN);
        const expected = r.providers.smtp.sent + r.providers.smtp.failed + r.providers.smtp.warmup;
        results.baseline.sinkRecorded = {
          smtp: {
            recorded: s.messages,
            duplicates: s.messages - s.distinct,
            missing: Math.max(0, expected - s.distinct),
            expectedWithWarmup: expected,
            sinkCpuSeconds: sink.cpuSeconds() - mark.cpuSeconds,
            messageBytes: sink.sampleSince(mark)?.bytes ?? null,
          },
        };
      }

    }

    // Loud flags.
    for (const c of results.campaigns) {
      if (c.total !== c.expected) results.warnings.push(`${c.label}: campaign total ${c.total} ≠ ${c.expected} contacts imported`);
      if (c.failed > 0) results.warnings.push(`${c.label}: ${c.failed} message(s) FAILED — this run is not clean`);
      if (c.suppressed > 0) results.warnings.push(`${c.label}: ${c.suppressed} message(s) suppressed`);
      const [where, got] = c.sink ? ['smtp-sink', c.sink] : ['the sandbox', c.sandbox];
      if (got.duplicates > 0) results.warnings.push(`${c.label}: ${where} saw ${got.duplicates} DUPLICATE message(s)`);
      if (got.missing > 0) results.warnings.push(`${c.label}: ${got.missing} recipient(s) MISSING at ${where}`);
      if (got.extraOverSent !== 0) results.warnings.push(`${c.label}: ${where} recorded ${got.recorded} but Herald counts ${c.sent} sent (${got.extraOverSent > 0 ? '+' : ''}${got.extraOverSent})`);
    }
    for (const [k, v] of Object.entries({ idle: results.welcomeLatency?.idle, during: results.welcomeLatency?.during })) {
      if (v && v.missing) results.warnings.push(`welcome latency ${k}: ${v.missing} of ${v.posted} welcome emails not seen at the sandbox within 15 s`);
    }
    if (results.baseline) {
      for (const [p, b] of Object.entries(results.baseline.providers)) {
        if (b.failed) results.warnings.push(`${p === 'smtp' ? 'nodemailer' : 'SDK'} baseline ${p}: ${b.failed} failed (first: ${b.firstError})`);
      }
      const got = results.baseline.sinkRecorded?.smtp;
      if (got && (got.duplicates || got.missing)) results.warnings.push(`nodemailer baseline: smtp-sink saw ${got.duplicates} duplicate(s), ${got.missing} missing of ${got.expectedWithWarmup}`);
    }
    const ev = results.tracking?.on?.events;
    if (ev && (ev.overflow || ev.failed)) results.warnings.push(`tracking: the sandbox dropped ${ev.overflow} event(s) (queue full) and gave up on ${ev.failed} post(s)`);
    if (ev && ev.applied < ev.expected) results.warnings.push(`tracking: only ${ev.applied} of ${ev.expected} delivered events were applied`);
    if (results.smsCeiling?.non2xx) results.warnings.push(`wrk: ${results.smsCeiling.non2xx} non-2xx responses from the sandbox`);
    if (results.machine.loadAverageAtStart[0] > 1) results.warnings.push(`load average was ${results.machine.loadAverageAtStart[0].toFixed(2)} at start on ${results.machine.nproc} cores: other work shared the CPU, figures are noisy`);
    for (const f of args.events ? ['serve-off.log', 'serve-on.log'] : ['serve.log']) results.warnings.push(...checkServeLog(path.join(tmp, f)));
  } catch (e) {
    results.error = String(e.stack ?? e);
    results.warnings.push(`RUN ABORTED: ${e.message}`);
  } finally {
    await sink?.stop();
    killChildren();
  }

  results.finishedAt = new Date().toISOString();
  results.checks = results.error ? [] : buildChecks(results);
  const outDir = path.join(here, 'results');
  mkdirSync(outDir, { recursive: true });
  results.resultsFile = path.join(outDir, `${startedAt.replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z')}.json`);
  writeFileSync(results.resultsFile, JSON.stringify(results, null, 2) + '\n');
  printReport(results);
  if (!args.keep && !results.error) rmSync(tmp, { recursive: true, force: true });
  else log(`kept ${tmp}`);
  process.exitCode = results.error ? 1 : 0;
}

// Errors and warnings Herald logged during the run (counted, first few quoted).
function checkServeLog(file) {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const bad = text.split('\n').filter((l) => /\[(error|critical)\]/.test(l));
  const warn = text.split('\n').filter((l) => /\[warning\]/.test(l) && !/master key/.test(l));
  const out = [];
  if (bad.length) out.push(`herald serve logged ${bad.length} error line(s), e.g.: ${bad.slice(0, 3).join(' | ').slice(0, 600)}`);
  if (warn.length) out.push(`herald serve logged ${warn.length} warning line(s), e.g.: ${warn.slice(0, 3).join(' | ').slice(0, 600)}`);
  return out;
}

main().catch((e) => {
  killChildren();
  process.stderr.write(`bench: ${e.stack ?? e}\n`);
  process.exit(1);
});
