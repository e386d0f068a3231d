// The agent dashboard in a real browser (Debian's Chromium via playwright-core) against
// `herald serve` and `herald sandbox` as real processes: an agent can log in, brand their
// messages, connect / test / disconnect each provider through the forms and see who sends
// and who pays; the message log shows what was sent; the operator sees usage; no API answer
// the browser sees carries a secret; every page passes axe-core (no serious or critical
// violations), fits a 375 px screen, and is screenshotted at 1280 and 375 px.
//
// Run from the repository root:  node --test tests/browser/
// HERALD_BIN defaults to build/herald. playwright-core and axe-core are resolved from
// tests/node (npm install there). Screenshots go to tests/browser/output/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const nodeDir = path.join(repo, 'tests', 'node');
const require = createRequire(path.join(nodeDir, 'package.json'));
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const outputDir = path.join(here, 'output');

// ---- secrets: every one of these must never appear in an API answer the browser sees ----
const PLATFORM_TOKEN = `pt-${randomBytes(16).toString('hex')}`;
const MASTER_KEY = randomBytes(32).toString('base64');
const PLATFORM_RESEND_KEY = `re_platform_${randomBytes(12).toString('hex')}`;
const PLATFORM_TWILIO_TOKEN = `platformtwilio${randomBytes(12).toString('hex')}`;
const OPERATOR = { email: 'ops@platform.example', password: `operator-${randomBytes(6).toString('hex')}` };
const MATT = { name: 'Matt Wright', email: 'matt@wrightrealty.com', password: `matt-${randomBytes(6).toString('hex')}` };
const BO = { name: 'Bo Nguyen', email: 'bo@example.net', password: `bo-${randomBytes(6).toString('hex')}` };
const LISA = { name: 'Lisa Chen', email: 'lisa@sunsetprops.com', password: `lisa-${randomBytes(6).toString('hex')}` };
const KEYS = {
  resend: `re_agent_${randomBytes(12).toString('hex')}`,
  sendgrid: `SG.agent${randomBytes(12).toString('hex')}`,
  mailgun: `key-agent${randomBytes(12).toString('hex')}`,
  revoked: `revoked_${randomBytes(12).toString('hex')}`,
  twilio: `twiliotoken${randomBytes(12).toString('hex')}`,
  lisaSendgrid: `SG.lisa${randomBytes(12).toString('hex')}`,
};
const SECRETS = [PLATFORM_TOKEN, MASTER_KEY, PLATFORM_RESEND_KEY, PLATFORM_TWILIO_TOKEN, OPERATOR.password,
  MATT.password, LISA.password, BO.password, ...Object.values(KEYS)];
let createdToken = null; // an API token: shown once by POST …/tokens, never again
const AGENT_SID = `AC${randomBytes(16).toString('hex')}`;

let dataDir;
let profileDir;
let sandbox;
let serve;
let base; // herald serve URL
let sandboxUrl;
let context;
let page;
const ids = {}; // agent ids by name
const apiResponses = []; // {url, status, body} of every /api/ answer the browser received
const cspViolations = [];
const pageErrors = [];
const axeReport = []; // every scan's violations of any impact, written to output/axe.json

function heraldBinary() {
  if (process.env.HERALD_BIN) return process.env.HERALD_BIN;
  for (const dir of ['build', 'build-web']) {
    const candidate = path.join(repo, dir, 'herald');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('set HERALD_BIN to the herald binary');
}

// Starts `herald <args>` and resolves with the URL it prints on the line matching `pattern`.
function start(args, env, pattern) {
  return new Promise((resolve, reject) => {
    const child = spawn(heraldBinary(), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start: ${out}`)), 20000);
    const onData = (chunk) => {
      out += chunk;
      const m = out.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => {
      out += chunk;
      if (process.env.HERALD_TEST_VERBOSE) process.stderr.write(chunk);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited with ${code}: ${out}`));
    });
  });
}

// The platform backend's call (bearer token), not the browser's.
async function platform(method, urlPath, body) {
  const res = await fetch(base + urlPath, {
    method,
    headers: { Authorization: `Bearer ${PLATFORM_TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${urlPath} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'herald-browser-'));
  profileDir = mkdtempSync(path.join(tmpdir(), 'herald-chromium-'));
  mkdirSync(outputDir, { recursive: true });

  ({ child: sandbox, url: sandboxUrl } = await start(['sandbox', '--listen', '127.0.0.1:0'],
    { ...process.env }, /sandbox listening on (http:\/\/\S+)/));
  const env = {
    ...process.env,
    HERALD_DATA_DIR: dataDir,
    HERALD_PLATFORM_TOKEN: PLATFORM_TOKEN,
    HERALD_MASTER_KEY: MASTER_KEY,
    RESEND_API_KEY: PLATFORM_RESEND_KEY,
    EMAIL_FROM: 'noreply@platform.com',
    TWILIO_ACCOUNT_SID: `AC${'0123456789abcdef'.repeat(2)}`,
    TWILIO_AUTH_TOKEN: PLATFORM_TWILIO_TOKEN,
    TWILIO_PHONE_NUMBER: '+14155550100',
    HERALD_RESEND_BASE_URL: sandboxUrl,
    HERALD_SENDGRID_BASE_URL: sandboxUrl,
    HERALD_MAILGUN_BASE_URL: sandboxUrl,
    HERALD_TWILIO_BASE_URL: sandboxUrl,
    HERALD_OPERATOR_EMAIL: OPERATOR.email,
    HERALD_OPERATOR_PASSWORD: OPERATOR.password,
    HERALD_RETRY_BASE_MS: '200',
  };
  ({ child: serve, url: base } = await start(['serve', '--listen', '127.0.0.1:0'], env,
    /herald listening on (http:\/\/\S+)/));

  // Two agents with logins, created the way the platform does it.
  ids.matt = (await platform('POST', '/api/v1/agents', MATT)).id;
  ids.lisa = (await platform('POST', '/api/v1/agents', LISA)).id;
  ids.bo = (await platform('POST', '/api/v1/agents', BO)).id;

  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(15000);
  context.on('response', (res) => {
    if (!new URL(res.url()).pathname.startsWith('/api/')) return;
    const method = res.request().method();
    apiResponses.push(res.text().then((body) => ({ method, url: res.url(), status: res.status(), body }),
      () => ({ method, url: res.url(), status: res.status(), body: '' })));
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
  });
  page.on('pageerror', (err) => pageErrors.push(err.message));
});

after(async () => {
  await context?.close().catch(() => {});
  for (const child of [serve, sandbox]) {
    if (!child) continue;
    child.removeAllListeners('exit');
    child.kill('SIGTERM');
  }
  rmSync(profileDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

// ---- helpers ----

async function logIn(who) {
  await context.clearCookies();
  await page.goto(`${base}/app/login`);
  await page.getByLabel('Email', { exact: true }).fill(who.email);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/app/login'));
}

async function openSettings(tab = 'Branding') {
  await page.goto(`${base}/app/settings${tab === 'Integrations' ? '?tab=integrations' : ''}`);
  await page.getByRole('tab', { name: tab, selected: true }).waitFor();
  if (tab === 'Integrations') await page.getByRole('region', { name: 'Email Provider' }).locator('.badge').waitFor();
  else await page.getByRole('button', { name: 'Save Settings' }).waitFor();
}

const emailCard = () => page.getByRole('region', { name: 'Email Provider' });
const smsCard = () => page.getByRole('region', { name: 'SMS Provider' });
const routesPanel = () => page.getByRole('region', { name: 'Who sends your messages' });

// Waits for `text` inside `locator`; on timeout the error says what was there instead.
async function expectText(locator, text) {
  try {
    await locator.getByText(text).first().waitFor();
  } catch (err) {
    const actual = await locator.first().innerText({ timeout: 1000 }).catch(() => '(not found)');
    throw new Error(`expected "${text}"; found:\n${actual}\n${err.message.split('\n')[0]}`);
  }
}

async function expectBadge(card, text) {
  try {
    await card.locator('.badge', { hasText: new RegExp(`^${text}$`) }).first().waitFor();
  } catch (err) {
    const actual = await card.locator('.badge').allInnerTexts().catch(() => []);
    throw new Error(`expected the badge "${text}"; found ${JSON.stringify(actual)}\n${err.message.split('\n')[0]}`);
  }
}

// Connects an email provider through the form (opening it with Change when connected).
async function connectEmail({ provider, apiKey, fromEmail, domain, region }) {
  const card = emailCard();
  if (await card.getByRole('button', { name: 'Change' }).isVisible()) {
    await card.getByRole('button', { name: 'Change' }).click();
  }
  await card.getByLabel('Provider', { exact: true }).selectOption({ label: provider });
  if (domain) {
    await card.getByLabel('Domain', { exact: true }).fill(domain);
    await card.getByLabel('Region', { exact: true }).selectOption(region);
  }
  await card.getByLabel('API Key', { exact: true }).fill(apiKey);
  await card.getByLabel('From Email', { exact: true }).fill(fromEmail);
  await card.getByRole('button', { name: 'Connect', exact: true }).click();
  await card.getByRole('button', { name: 'Test connection' }).waitFor();
}

async function axeScan(label) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    iframes: false,
    resultTypes: ['violations'],
  }));
  axeReport.push({ page: label, violations: result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length })) });
  writeFileSync(path.join(outputDir, 'axe.json'), `${JSON.stringify(axeReport, null, 2)}\n`);
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${label}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), []);
  return result.violations;
}

// Full-page screenshots at 1280 and 375 px; at 375 nothing may stick out sideways.
async function screenshots(name) {
  await page.evaluate(() => {
    document.getElementById('toast')?.replaceChildren();
    window.scrollTo(0, 0);
  });
  await page.screenshot({ path: path.join(outputDir, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 375, height: 812 });
  try {
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    // Name the element that sticks out furthest, so a failure says where to look.
    const widest = overflow <= 0 ? '' : await page.evaluate(() => {
      const e = [...document.body.querySelectorAll('*')].reduce((a, b) => (b.getBoundingClientRect().right > a.getBoundingClientRect().right ? b : a));
      return `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}: “${e.textContent.slice(0, 60)}”`;
    });
    assert.ok(overflow <= 0, `${name}: the page is ${overflow}px wider than a 375px screen (widest: ${widest})`);
    await page.screenshot({ path: path.join(outputDir, `${name}-375.png`), fullPage: true });
  } finally {
    await page.setViewportSize({ width: 1280, height: 900 });
  }
}

// ---- tests ----

test('login: a wrong password gets one generic message; the right one opens Settings', async () => {
  await page.goto(`${base}/`);
  await page.waitForURL('**/app/login**');
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  await page.getByLabel('Email', { exact: true }).fill(MATT.email);
  await page.getByLabel('Password', { exact: true }).fill('wrong-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').getByText('Email or password is incorrect.').waitFor();
  await logIn(MATT);
  await page.waitForURL('**/app/settings');
  await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
  await page.locator('.account-name', { hasText: MATT.name }).waitFor();
});

test('session: the cookie is HttpOnly, and a state change without the CSRF header is refused', async () => {
  assert.equal(await page.evaluate(() => document.cookie), '');
  const status = await page.evaluate(async (id) => (await fetch(`/api/v1/agents/${id}`, {
    method: 'PATCH', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ fallbackToPlatform: true }),
  })).status, ids.matt);
  assert.equal(status, 403);
});

test('branding: an invalid Reply Email shows the server\'s error at the field; valid values save and reload', async () => {
  await openSettings('Branding');
  await page.getByLabel('Company Name').fill('Wright Realty');
  await page.getByLabel('Reply Email').fill('not-an-email');
  await page.getByRole('button', { name: 'Save Settings' }).click();
  const reply = page.getByLabel('Reply Email');
  await page.waitForFunction(() => document.querySelector('[name="replyEmail"]')?.getAttribute('aria-invalid') === 'true');
  const describedBy = (await reply.getAttribute('aria-describedby')).split(/\s+/);
  const errorText = await page.evaluate((idsList) => idsList.map((i) => document.getElementById(i)?.textContent ?? '').join(' '), describedBy);
  assert.match(errorText, /\S/, 'the field error is referenced by aria-describedby');
  const errorEl = page.locator('.field', { has: reply }).locator('.field-error');
  assert.ok(await errorEl.isVisible(), 'the error is shown next to Reply Email');
  assert.equal(await reply.evaluate((el) => el === document.activeElement), true, 'focus moves to the invalid field');

  await reply.fill('matt@wrightrealty.com');
  await page.getByLabel('SMS Phone').fill('+14155550111');
  await page.getByLabel('Email Signature').fill('Matt Wright\nWright Realty · Springfield');
  await page.getByLabel('Website').fill('https://wrightrealty.com');
  await page.getByLabel('Postal Address').fill('742 Evergreen Terrace, Springfield, OR 97477');
  await page.getByRole('button', { name: 'Save Settings' }).click();
  await page.getByText('Settings saved.').waitFor();
  assert.equal(await reply.getAttribute('aria-invalid'), null);

  await page.reload();
  await page.getByRole('button', { name: 'Save Settings' }).waitFor();
  await page.waitForFunction(() => document.querySelector('[name="companyName"]')?.value === 'Wright Realty');
  assert.equal(await page.getByLabel('Reply Email').inputValue(), 'matt@wrightrealty.com');
  assert.equal(await page.getByLabel('Email Signature').inputValue(), 'Matt Wright\nWright Realty · Springfield');
  assert.equal(await page.getByLabel('Postal Address').inputValue(), '742 Evergreen Terrace, Springfield, OR 97477');
  assert.equal(await page.getByLabel('Website').inputValue(), 'https://wrightrealty.com');
});

test('keyboard: arrow keys switch tabs; Tab walks the Branding form in order with a visible focus ring', async () => {
  await openSettings('Branding');
  await page.getByRole('tab', { name: 'Branding' }).focus();
  await page.keyboard.press('ArrowRight');
  await page.getByRole('tab', { name: 'Integrations', selected: true }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Integrations');
  await emailCard().waitFor();
  await page.keyboard.press('ArrowLeft');
  await page.getByRole('tab', { name: 'Branding', selected: true }).waitFor();
  assert.ok(await page.getByRole('region', { name: 'Email Provider' }).isHidden());

  // From the selected tab: the panel, then each control in reading order.
  await page.keyboard.press('Tab');
  const order = [];
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press('Tab');
    order.push(await page.evaluate(() => {
      const el = document.activeElement;
      const outline = getComputedStyle(el).outlineStyle;
      const name = el.labels?.[0]?.textContent ?? el.textContent;
      return { name: name.trim(), visible: outline !== 'none' && outline !== '' };
    }));
  }
  assert.deepEqual(order.slice(0, 7).map((o) => o.name),
    ['Company Name', 'Reply Email', 'SMS Phone', 'Email Signature', 'Website', 'Postal Address', 'Save Settings']);
  for (const o of order.slice(0, 7)) assert.ok(o.visible, `${o.name} shows a focus ring`);
});

test('integrations: connect Resend, SendGrid and Mailgun (Domain, Region) through the form; the badge and the routes panel follow', async () => {
  await openSettings('Integrations');
  await expectBadge(emailCard(), 'Not connected');
  await expectBadge(smsCard(), 'Not connected');
  await expectText(routesPanel(), 'Email goes out through the platform’s Resend account as Wright Realty <noreply@platform.com>. Replies go to matt@wrightrealty.com. The platform pays for it.');
  await expectText(routesPanel(), 'SMS goes out through the platform’s Twilio account from +14155550100. The platform pays for it.');

  // Mailgun's Domain and Region appear only for Mailgun.
  const card = emailCard();
  assert.ok(await card.getByLabel('Domain', { exact: true }).isHidden());
  await card.getByLabel('Provider', { exact: true }).selectOption({ label: 'Mailgun' });
  assert.ok(await card.getByLabel('Domain', { exact: true }).isVisible());
  assert.ok(await card.getByLabel('Region', { exact: true }).isVisible());
  // The cards come from the providers' own descriptions: SMTP brings its own fields.
  await card.getByLabel('Provider', { exact: true }).selectOption({ label: 'SMTP' });
  for (const label of ['SMTP Server', 'Port', 'Security', 'Username', 'Password', 'From Email']) {
    assert.ok(await card.getByLabel(label, { exact: true }).isVisible(), label);
  }
  assert.ok(await card.getByLabel('API Key', { exact: true }).isHidden());
  assert.ok(await card.getByLabel('Domain', { exact: true }).isHidden());
  assert.equal(await card.getByLabel('Password', { exact: true }).getAttribute('type'), 'password');
  assert.equal(await card.getByLabel('Port', { exact: true }).inputValue(), '587');
  await card.getByLabel('Provider', { exact: true }).selectOption({ label: 'Resend' });
  assert.ok(await card.getByLabel('Domain', { exact: true }).isHidden());
  assert.equal(await card.getByLabel('API Key', { exact: true }).getAttribute('type'), 'password');

  await connectEmail({ provider: 'Resend', apiKey: KEYS.resend, fromEmail: 'matt@wrightrealty.com' });
  await expectBadge(emailCard(), 'Connected');
  await expectText(routesPanel(), 'Email goes out through your Resend account as Wright Realty <matt@wrightrealty.com>. You pay for it.');
  await expectText(emailCard(), `ending in …${KEYS.resend.slice(-4)}`);

  await connectEmail({ provider: 'SendGrid', apiKey: KEYS.sendgrid, fromEmail: 'matt@wrightrealty.com' });
  await expectText(routesPanel(), 'Email goes out through your SendGrid account as Wright Realty <matt@wrightrealty.com>. You pay for it.');
  await expectText(emailCard(), 'SendGrid');

  await connectEmail({ provider: 'Mailgun', apiKey: KEYS.mailgun, fromEmail: 'matt@mg.wrightrealty.com', domain: 'mg.wrightrealty.com', region: 'eu' });
  await expectBadge(emailCard(), 'Connected');
  await expectText(routesPanel(), 'Email goes out through your Mailgun account as Wright Realty <matt@mg.wrightrealty.com>. Replies go to matt@wrightrealty.com. You pay for it.');
  await expectText(emailCard(), 'mg.wrightrealty.com');
  await expectText(emailCard(), 'EU');

  // Twilio.
  const sms = smsCard();
  await sms.getByLabel('Account SID', { exact: true }).fill(AGENT_SID);
  await sms.getByLabel('Auth Token', { exact: true }).fill(KEYS.twilio);
  await sms.getByLabel('Phone Number', { exact: true }).fill('+14155550123');
  assert.equal(await sms.getByLabel('Auth Token', { exact: true }).getAttribute('type'), 'password');
  await sms.getByRole('button', { name: 'Connect', exact: true }).click();
  await expectBadge(smsCard(), 'Connected');
  await expectText(routesPanel(), 'SMS goes out through your Twilio account from +14155550123. You pay for it.');
  await expectText(smsCard(), AGENT_SID);

  // Only hints are on the page; the keys never are (not even in an input).
  const html = await page.content();
  for (const key of [KEYS.resend, KEYS.sendgrid, KEYS.mailgun, KEYS.twilio]) assert.ok(!html.includes(key), 'a key is on the page');
  const values = await page.$$eval('input', (inputs) => inputs.map((i) => i.value));
  for (const key of [KEYS.mailgun, KEYS.twilio]) assert.ok(!values.includes(key), 'a key stayed in an input');

  // Saved values reload.
  await page.reload();
  await expectBadge(emailCard(), 'Connected');
  await expectBadge(smsCard(), 'Connected');
  await expectText(routesPanel(), 'your Mailgun account');
});

test('test connection: a good key passes; a revoked key is rejected and the badge becomes Failing; disconnect returns to the platform', async () => {
  await openSettings('Integrations');
  // Good credentials.
  await emailCard().getByRole('button', { name: 'Test connection' }).click();
  await expectText(emailCard(), 'Connection works: Mailgun accepted your API key.');
  await smsCard().getByRole('button', { name: 'Test connection' }).click();
  await expectText(smsCard(), 'Connection works: Twilio accepted your credentials.');

  // A revoked key (the sandbox answers 401/403 to any key starting with "revoked").
  await connectEmail({ provider: 'SendGrid', apiKey: KEYS.revoked, fromEmail: 'matt@wrightrealty.com' });
  await expectBadge(emailCard(), 'Connected');
  await emailCard().getByRole('button', { name: 'Test connection' }).click();
  await expectText(emailCard(), 'SendGrid rejected your API key');
  await expectBadge(emailCard(), 'Failing');
  await expectText(routesPanel(), 'Your SendGrid account is failing: messages it rejects are re-sent through the platform’s account.');
  await axeScan('settings integrations (failing)');
  await screenshots('settings-integrations-failing');

  // Fallback off: the panel says rejected messages fail; the setting survives a reload.
  const fallback = page.getByLabel('Fall back to the platform’s account');
  assert.ok(await fallback.isChecked());
  await fallback.uncheck();
  await expectText(routesPanel(), 'Your SendGrid account is failing and fallback is off: messages it rejects fail.');
  await page.reload();
  await expectBadge(emailCard(), 'Failing');
  assert.equal(await page.getByLabel('Fall back to the platform’s account').isChecked(), false);
  await page.getByLabel('Fall back to the platform’s account').check();
  await expectText(routesPanel(), 'messages it rejects are re-sent through the platform’s account');

  // Pause and resume the SMS integration: inactive means the platform's number sends.
  await smsCard().getByRole('button', { name: 'Pause' }).click();
  await expectBadge(smsCard(), 'Inactive');
  await expectText(routesPanel(), 'SMS goes out through the platform’s Twilio account from +14155550100. The platform pays for it.');
  await smsCard().getByRole('button', { name: 'Resume' }).click();
  await expectBadge(smsCard(), 'Connected');
  await expectText(routesPanel(), 'SMS goes out through your Twilio account from +14155550123. You pay for it.');

  // Disconnect (confirmed in a dialog) → not connected; email goes through the platform again.
  await emailCard().getByRole('button', { name: 'Disconnect' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText('Disconnect SendGrid?').waitFor();
  await dialog.getByRole('button', { name: 'Disconnect' }).click();
  await expectBadge(emailCard(), 'Not connected');
  await expectText(routesPanel(), 'Email goes out through the platform’s Resend account as Wright Realty <noreply@platform.com>. Replies go to matt@wrightrealty.com. The platform pays for it.');
  await emailCard().getByLabel('API Key', { exact: true }).waitFor();

  await smsCard().getByRole('button', { name: 'Disconnect' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Disconnect' }).click();
  await expectBadge(smsCard(), 'Not connected');
  await expectText(routesPanel(), 'SMS goes out through the platform’s Twilio account from +14155550100. The platform pays for it.');
});

test('messages: a listing created through the API appears newest first with route, payer, status and attempts; the detail shows content, history and attempts', async () => {
  // Lisa: branding and her own SendGrid, set up by the platform through the API.
  await platform('PUT', `/api/v1/agents/${ids.lisa}/branding`, {
    companyName: 'Sunset Properties', replyEmail: 'lisa@sunsetprops.com', smsPhone: '', emailSignature: 'Lisa Chen',
    website: '', postalAddress: '1 Ocean Ave, Santa Monica, CA 90401',
  });
  await platform('PUT', `/api/v1/agents/${ids.lisa}/integrations/email`, {
    provider: 'sendgrid', apiKey: KEYS.lisaSendgrid, fromEmail: 'lisa@sunsetprops.com',
  });
  await platform('POST', `/api/v1/agents/${ids.lisa}/listings`, {
    address: '12 Oak Street', price: 450000, seller: { name: 'Ann Seller', email: 'ann@example.com', phone: '+14155550199' },
  });
  await logIn(LISA);
  await page.goto(`${base}/app/messages`);
  await page.getByRole('heading', { name: 'Messages', level: 1 }).waitFor();
  const rows = page.locator('table.messages-table tbody tr');
  // Both messages reach a final status (the page refreshes itself while they are in flight).
  await page.waitForFunction(() => {
    const r = [...document.querySelectorAll('table.messages-table tbody tr')];
    return r.length === 2 && r.every((tr) => ['sent', 'delivered'].includes(tr.dataset.status));
  }, null, { timeout: 30000 });
  const emailRow = rows.filter({ hasText: 'ann@example.com' });
  await expectText(emailRow, 'Your account · SendGrid');
  await expectText(emailRow, 'From Sunset Properties <lisa@sunsetprops.com>');
  assert.equal((await emailRow.locator('td[data-label="Paid by"]').textContent()).trim(), 'You');
  await expectText(emailRow, 'Sent');
  const smsRow = rows.filter({ hasText: '+14155550199' });
  await expectText(smsRow, 'Platform · Twilio');
  assert.equal((await smsRow.locator('td[data-label="Paid by"]').textContent()).trim(), 'Platform');

  // Filters.
  await page.getByLabel('Channel').selectOption('sms');
  await page.waitForFunction(() => document.querySelectorAll('table.messages-table tbody tr').length === 1);
  assert.ok(await rows.first().getByText('+14155550199').isVisible());
  await page.getByLabel('Status').selectOption('failed');
  await page.getByText('No messages match these filters.').waitFor();
  await page.getByLabel('Channel').selectOption('');
  await page.getByLabel('Status').selectOption('');
  await page.waitForFunction(() => document.querySelectorAll('table.messages-table tbody tr').length === 2);
  await axeScan('messages');
  await screenshots('messages');

  // Detail.
  await emailRow.getByRole('link', { name: 'Ann Seller' }).click();
  await page.waitForURL('**/app/messages/*');
  await page.getByRole('heading', { name: 'Status history' }).waitFor();
  await expectText(page.locator('main'), 'Sunset Properties <lisa@sunsetprops.com>');
  const frame = page.locator('iframe.email-frame');
  assert.equal(await frame.getAttribute('sandbox'), 'allow-same-origin allow-popups allow-popups-to-escape-sandbox');
  await frame.contentFrame().getByText('Ann Seller', { exact: false }).first().waitFor();
  // The email's own inline styles apply (through the CSSOM), and the frame is tall enough
  // to show the whole email without a scrollbar of its own.
  await page.waitForFunction(() => {
    const f = document.querySelector('iframe.email-frame');
    const d = f?.contentDocument;
    return d?.body?.style.display === 'flow-root' && d.documentElement.scrollHeight <= f.clientHeight + 1;
  });
  await expectText(page.getByRole('region', { name: 'Attempts' }), 'Attempt 1');
  await expectText(page.getByRole('region', { name: 'Status history' }), 'Queued');
  await expectText(page.getByRole('region', { name: 'Status history' }), 'Sent');
  await axeScan('message detail');
  await screenshots('message-detail');
  await page.getByRole('link', { name: 'All messages' }).click();
  await page.getByRole('heading', { name: 'Messages', level: 1 }).waitFor();
});

test('messages: the log is newest first and Load more follows the cursor to the end', async () => {
  // 26 welcome emails (no seller phone, so no SMS): one more than a page.
  for (let i = 1; i <= 26; i++) {
    await platform('POST', `/api/v1/agents/${ids.bo}/listings`, {
      address: `${i} Elm Street`, price: 300000 + i, seller: { name: `Seller ${i}`, email: `seller${i}@example.com` },
    });
  }
  await logIn(BO);
  await page.goto(`${base}/app/messages`);
  const rows = page.locator('table.messages-table tbody tr');
  await page.waitForFunction(() => document.querySelectorAll('table.messages-table tbody tr').length === 25);
  await page.getByText('25+ messages, newest first.').waitFor();
  await expectText(rows.first(), 'Seller 26');
  await page.getByRole('button', { name: 'Load more' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table.messages-table tbody tr').length === 26);
  await expectText(rows.last(), 'Seller 1');
  assert.ok(await page.getByRole('button', { name: 'Load more' }).isHidden());
  const order = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.id));
  assert.deepEqual(order, [...order].sort().reverse(), 'newest (largest time-ordered id) first');
  assert.equal(new Set(order).size, 26, 'no row twice');
});

test('API tokens: create one (shown once), see it listed by hint, revoke it', async () => {
  await logIn(LISA);
  await page.goto(`${base}/app/tokens`);
  await page.getByRole('heading', { name: 'API tokens', level: 1 }).waitFor();
  await page.getByText('No API tokens yet.').waitFor();
  await page.getByLabel('Token name').fill('CRM sync');
  await page.getByRole('button', { name: 'Create token' }).click();
  const value = await page.getByLabel('New API token').inputValue();
  assert.ok(value.length >= 16, 'the token is shown once');
  createdToken = value;
  // The token works for the API.
  const res = await fetch(`${base}/api/v1/agents/${ids.lisa}/routes`, { headers: { Authorization: `Bearer ${value}` } });
  assert.equal(res.status, 200);
  const row = page.locator('table.tokens-table tbody tr', { hasText: 'CRM sync' });
  await row.waitFor();
  assert.ok(!(await row.textContent()).includes(value));
  await axeScan('tokens');
  await screenshots('tokens');
  await page.getByRole('button', { name: 'Done' }).click();
  await page.reload();
  await row.waitFor();
  assert.ok(!(await page.content()).includes(value), 'the token is never shown again');
  await row.getByRole('button', { name: 'Revoke CRM sync' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
  await page.getByText('No API tokens yet.').waitFor();
  const after = await fetch(`${base}/api/v1/agents/${ids.lisa}/routes`, { headers: { Authorization: `Bearer ${value}` } });
  assert.equal(after.status, 401);
});

test('admin: the operator sees every agent with integration status and usage per agent; an agent cannot', async () => {
  await page.goto(`${base}/app/admin`);
  await page.getByRole('heading', { name: 'Not found' }).waitFor();

  await logIn(OPERATOR);
  await page.waitForURL('**/app/admin');
  await page.getByRole('heading', { name: 'Admin', level: 1 }).waitFor();
  const agents = page.locator('table.agents-table tbody tr');
  await agents.filter({ hasText: MATT.email }).waitFor();
  const lisaRow = agents.filter({ hasText: LISA.email });
  await expectBadge(lisaRow, 'Connected');
  await expectBadge(agents.filter({ hasText: MATT.email }), 'Not connected');
  const usage = page.locator('table.usage-table tbody tr', { hasText: 'Lisa Chen' });
  await usage.waitFor();
  const cells = await usage.locator('td').allTextContents();
  // Email via agent 1, email via platform 0, SMS via agent 0, SMS via platform 1, total 2.
  assert.deepEqual(cells.slice(0, 5), ['1', '0', '0', '1', '2']);
  // The platform's own accounts: what agents without their own send through, and whether
  // their delivery events come back (no public URL here, so tracking is off).
  const platformEmail = page.locator('table.platform-table tbody tr[data-channel="email"]');
  await platformEmail.waitFor();
  const emailCells = await platformEmail.locator('td').allTextContents();
  assert.equal(emailCells[0], 'Resend');
  assert.equal(emailCells[1], 'noreply@platform.com');
  assert.match(emailCells[2], /^Off/);
  const smsCells = await page.locator('table.platform-table tbody tr[data-channel="sms"] td').allTextContents();
  assert.deepEqual(smsCells.slice(0, 2), ['Twilio', '+14155550100']);
  await axeScan('admin');
  await screenshots('admin');
  // Agent pages are not for the operator.
  await page.goto(`${base}/app/settings`);
  await page.getByRole('heading', { name: 'Not found' }).waitFor();
});

test('every page passes axe-core (no serious or critical violations) and fits 375 px; screenshots', async () => {
  await context.clearCookies();
  await page.goto(`${base}/app/login`);
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  await axeScan('login');
  await screenshots('login');

  await logIn(MATT);
  await openSettings('Branding');
  await page.waitForFunction(() => document.querySelector('[name="companyName"]')?.value === 'Wright Realty');
  await axeScan('settings branding');
  await screenshots('settings-branding');
  // With a field error showing.
  await page.getByLabel('Reply Email').fill('nope');
  await page.getByRole('button', { name: 'Save Settings' }).click();
  await page.waitForFunction(() => document.querySelector('[name="replyEmail"]')?.getAttribute('aria-invalid') === 'true');
  await axeScan('settings branding with error');
  await screenshots('settings-branding-error');

  await openSettings('Integrations');
  await axeScan('settings integrations (not connected)');
  await screenshots('settings-integrations');
  await connectEmail({ provider: 'SendGrid', apiKey: KEYS.sendgrid, fromEmail: 'matt@wrightrealty.com' });
  await expectBadge(emailCard(), 'Connected');
  await axeScan('settings integrations (connected)');
  await screenshots('settings-integrations-connected');

  await page.goto(`${base}/app/messages`);
  await page.getByText('No messages yet.').waitFor();
  await axeScan('messages (empty)');
  await screenshots('messages-empty');
});

test('an expired session sends the agent to the login page, which says why', async () => {
  await logIn(LISA);
  await page.goto(`${base}/app/messages`);
  await page.getByRole('button', { name: 'Refresh' }).waitFor();
  await context.clearCookies(); // as if the session expired or was revoked
  await page.getByRole('button', { name: 'Refresh' }).click();
  await page.waitForURL('**/app/login?**');
  await page.getByText('Your session has ended. Please log in again.').waitFor();
  // Logging in again returns to the page the agent was on.
  await page.getByLabel('Email', { exact: true }).fill(LISA.email);
  await page.getByLabel('Password', { exact: true }).fill(LISA.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL('**/app/messages');
  await page.getByRole('heading', { name: 'Messages', level: 1 }).waitFor();
});

test('log out ends the session', async () => {
  await page.goto(`${base}/app/settings`);
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL('**/app/login');
  const res = await page.evaluate(async () => (await fetch('/api/v1/session', { credentials: 'same-origin' })).status);
  assert.equal(res, 401);
  await page.goto(`${base}/app/messages`);
  await page.waitForURL('**/app/login?next=*');
});

test('repeated failed logins are slowed down: the form says how long to wait', async () => {
  await context.clearCookies();
  await page.goto(`${base}/app/login`);
  const alert = page.getByRole('alert');
  for (let i = 0; i < 10; i++) {
    await page.getByLabel('Email', { exact: true }).fill('nobody@example.com');
    await page.getByLabel('Password', { exact: true }).fill(`wrong-${i}`);
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/session') && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Log in' }).click();
    if ((await answer).status() === 429) break;
  }
  await alert.getByText(/Too many failed attempts\. Try again in \d+ seconds?\./).waitFor();
  assert.ok(await page.getByRole('button', { name: 'Log in' }).isDisabled());
});

test('no API answer the browser saw contains a secret; no CSP violations; no script errors', async () => {
  const seen = await Promise.all(apiResponses);
  assert.ok(seen.length > 50, `the browser made API calls (${seen.length})`);
  for (const r of seen) {
    for (const secret of SECRETS) {
      assert.ok(!r.body.includes(secret), `${r.method} ${r.url} (${r.status}) contains a secret`);
    }
    const createsToken = r.method === 'POST' && /\/tokens$/.test(new URL(r.url).pathname);
    if (createdToken && !createsToken) {
      assert.ok(!r.body.includes(createdToken), `${r.method} ${r.url} shows the API token again`);
    }
  }
  assert.deepEqual(cspViolations, []);
  assert.deepEqual(pageErrors, []);
});
