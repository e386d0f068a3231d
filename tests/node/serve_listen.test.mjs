// `herald serve --listen HOST:PORT` without HERALD_PUBLIC_URL: the public URL follows the
// address given, so an inbound STOP signed by Twilio's own library (for the URL Twilio was
// configured with, on that port) is accepted, and a forged one still refused.
//
// Run: HERALD_BIN=build/herald node --test tests/node/serve_listen.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

import twilio from 'twilio';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PLATFORM_TOKEN = randomBytes(24).toString('hex');
const TWILIO_TOKEN = randomBytes(16).toString('hex');
const PLATFORM_NUMBER = '+14155550100';

let herald;
let base;
let dataDir;

function heraldBinary() {
  if (process.env.HERALD_BIN) return path.resolve(process.env.HERALD_BIN);
  const candidate = path.join(repo, 'build', 'herald');
  if (existsSync(candidate)) return candidate;
  throw new Error('set HERALD_BIN to the herald binary');
}

// A port nothing listens on now (the OS picks it; we let it go and herald takes it).
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'herald-listen-'));
  const port = await freePort();
  const env = { ...process.env };
  delete env.HERALD_PUBLIC_URL;
  delete env.HERALD_LISTEN;
  Object.assign(env, {
    HERALD_DATA_DIR: dataDir,
    HERALD_PLATFORM_TOKEN: PLATFORM_TOKEN,
    TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
    TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    TWILIO_PHONE_NUMBER: PLATFORM_NUMBER,
    EMAIL_FROM: 'noreply@platform.com',
    RESEND_API_KEY: 're_unused_in_this_test',
  });
  herald = spawn(heraldBinary(), ['serve', '--listen', `127.0.0.1:${port}`], {
    env, stdio: ['ignore', 'pipe', 'inherit'],
  });
  base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`herald did not start: ${out}`)), 20000);
    herald.on('exit', (code) => reject(new Error(`herald exited with ${code}: ${out}`)));
    herald.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/herald listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  assert.equal(base, `http://127.0.0.1:${port}`);
});

after(() => {
  herald?.removeAllListeners('exit');
  herald?.kill('SIGTERM');
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

// Posts an inbound SMS as Twilio would, signed with `token` for the URL on this port.
async function inbound(agentId, text, token) {
  const url = `${base}/webhooks/twilio/${agentId}/inbound`;
  const params = { From: '+14155552671', To: PLATFORM_NUMBER, Body: text, MessageSid: `SM${randomBytes(16).toString('hex')}` };
  const signature = twilio.getExpectedTwilioSignature(token, url, params);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, text: await res.text() };
}

test('an inbound STOP signed by Twilio for the --listen address is accepted and suppresses the number', async () => {
  const agent = await api('POST', '/agents', { name: 'Matt Wright', email: 'matt@wrightrealty.com' });
  assert.equal(agent.status, 201);
  const forged = await inbound(agent.body.id, 'STOP', 'not-the-token');
  assert.equal(forged.status, 403);
  const stop = await inbound(agent.body.id, 'STOP', TWILIO_TOKEN);
  assert.equal(stop.status, 200, stop.text);
  assert.match(stop.text, /<Response/);
  const suppressions = await api('GET', `/agents/${agent.body.id}/suppressions`);
  assert.equal(suppressions.status, 200);
  assert.ok(suppressions.body.items.some((s) => s.address === '+14155552671'), JSON.stringify(suppressions.body));
});
