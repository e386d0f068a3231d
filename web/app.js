// The dashboard's entry point: restores the session, draws the shell (header, navigation,
// main area) and routes /app/* paths to pages with history.pushState.
import { h, replace } from './lib/dom.js';
import { api, setCsrfToken, ApiError } from './lib/api.js';
import { skeleton, errorState, announce } from './lib/ui.js';

const ROOT = '/app';

// Pages: path pattern → module and what the agent/operator may see.
const ROUTES = [
  { pattern: /^\/app\/login\/?$/, page: 'login', public: true },
  { pattern: /^\/app\/settings\/?$/, page: 'settings', role: 'agent', nav: 'settings' },
  { pattern: /^\/app\/messages\/?$/, page: 'messages', role: 'agent', nav: 'messages' },
  { pattern: /^\/app\/messages\/(?<id>[^/]+)\/?$/, page: 'message', role: 'agent', nav: 'messages' },
  { pattern: /^\/app\/tokens\/?$/, page: 'tokens', role: 'agent', nav: 'tokens' },
  { pattern: /^\/app\/admin\/?$/, page: 'admin', role: 'operator', nav: 'admin' },
];

const NAV = {
  agent: [
    { id: 'settings', label: 'Settings', href: `${ROOT}/settings` },
    { id: 'messages', label: 'Messages', href: `${ROOT}/messages` },
    { id: 'tokens', label: 'API tokens', href: `${ROOT}/tokens` },
  ],
  operator: [{ id: 'admin', label: 'Admin', href: `${ROOT}/admin` }],
};

const state = {
  session: null, // {role, agent, csrfToken}
  leave: [], // cleanups of the current page (timers, aborts)
  controller: null,
  firstRender: true,
};

const appEl = document.getElementById('app');

function homeFor(session) {
  return session?.role === 'operator' ? `${ROOT}/admin` : `${ROOT}/settings`;
}

export function navigate(to, { replace: replaceState = false } = {}) {
  const url = new URL(to, location.origin);
  if (url.pathname + url.search === location.pathname + location.search && !replaceState) {
    render();
    return;
  }
  if (replaceState) history.replaceState(null, '', url.pathname + url.search + url.hash);
  else history.pushState(null, '', url.pathname + url.search + url.hash);
  render();
}

function setSession(s) {
  state.session = s;
  setCsrfToken(s?.csrfToken ?? null);
}

// The header: product name, the role's navigation and the account menu.
function shell(route) {
  const s = state.session;
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  if (!s || route?.public) {
    replace(appEl, h('div', { class: 'auth-layout' }, main));
    return main;
  }
  const who = s.role === 'operator' ? 'Operator' : (s.agent?.name || s.agent?.email || 'Agent');
  const links = (NAV[s.role] ?? []).map((item) =>
    h('li', {}, h('a', {
      href: item.href,
      class: 'nav-link',
      'aria-current': route?.nav === item.id ? 'page' : false,
    }, item.label)));
  const logout = h('button', { type: 'button', class: 'btn btn-ghost btn-small', onclick: () => logOut(logout) }, 'Log out');
  replace(appEl,
    h('header', { class: 'topbar' },
      h('div', { class: 'topbar-inner' },
        h('a', { href: homeFor(s), class: 'brand' },
          h('img', { src: `${ROOT}/herald.svg`, alt: '', width: 24, height: 24 }),
          h('span', {}, 'Herald')),
        h('nav', { 'aria-label': 'Main', class: 'nav' }, h('ul', {}, links)),
        h('div', { class: 'account' },
          h('span', { class: 'account-name', title: s.agent?.email ?? '' }, who),
          logout))),
    main);
  return main;
}

async function logOut(button) {
  button.disabled = true;
  try {
    await api.session.destroy();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) {
      button.disabled = false;
      announce('Could not log out. Please try again.', 'error');
      return;
    }
  }
  setSession(null);
  navigate(`${ROOT}/login`, { replace: true });
  announce('You are logged out.');
}

function matchRoute(pathname) {
  for (const r of ROUTES) {
    const m = pathname.match(r.pattern);
    if (m) return { ...r, params: m.groups ?? {} };
  }
  return null;
}

// Draws the page for the current location.
async function render() {
  for (const fn of state.leave.splice(0)) {
    try {
      fn();
    } catch {
      /* a page's cleanup never blocks navigation */
    }
  }
  state.controller?.abort();
  const controller = new AbortController();
  state.controller = controller;

  const { pathname, search } = location;
  if (pathname === ROOT || pathname === `${ROOT}/` || !pathname.startsWith(ROOT)) {
    navigate(state.session ? homeFor(state.session) : `${ROOT}/login`, { replace: true });
    return;
  }
  const route = matchRoute(pathname);
  if (route && !route.public && !state.session) {
    navigate(`${ROOT}/login?next=${encodeURIComponent(pathname + search)}`, { replace: true });
    return;
  }
  if (route?.page === 'login' && state.session) {
    navigate(homeFor(state.session), { replace: true });
    return;
  }

  const main = shell(route);
  const focusHeading = !state.firstRender;
  state.firstRender = false;

  if (!route) {
    notFound(main, 'This page does not exist.');
    return;
  }
  if (route.role && route.role !== state.session.role) {
    notFound(main, route.role === 'operator'
      ? 'The Admin pages are for the platform operator.'
      : 'Operator accounts have no agent settings or messages. Use the Admin page.');
    return;
  }

  replace(main, skeleton(4));
  const ctx = {
    session: state.session,
    agentId: state.session?.agent?.id ?? null,
    params: route.params,
    query: new URLSearchParams(search),
    signal: controller.signal,
    navigate,
    onLeave: (fn) => state.leave.push(fn),
    setTitle: (t) => {
      document.title = `${t} · Herald`;
    },
    login: (s) => {
      setSession(s);
    },
    homeFor,
  };
  try {
    const mod = await import(`./pages/${route.page}.js`);
    if (controller.signal.aborted) return;
    await mod.render(main, ctx);
  } catch (err) {
    if (controller.signal.aborted || err?.name === 'AbortError') return;
    console.error(err);
    replace(main, errorState(err, () => render()));
  }
  if (focusHeading && !controller.signal.aborted) {
    const heading = main.querySelector('h1');
    (heading ?? main).focus({ preventScroll: false });
  }
}

function notFound(main, text) {
  document.title = 'Not found · Herald';
  replace(main,
    h('header', { class: 'page-header' }, h('h1', { tabindex: '-1', class: 'page-title' }, 'Not found')),
    h('div', { class: 'card' }, h('p', {}, text),
      h('p', {}, h('a', { href: homeFor(state.session) }, 'Go to your home page'))));
}

// Same-origin links inside the app are handled here, without a page load.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(`${ROOT}/`)) return;
  if (url.hash && url.pathname === location.pathname && url.search === location.search) return; // in-page
  if (/\.[a-z0-9]+$/i.test(url.pathname)) return; // static files
  e.preventDefault();
  navigate(url.pathname + url.search + url.hash);
});

window.addEventListener('popstate', () => render());

// Any API call answering 401 means the session is gone (expired or revoked).
window.addEventListener('herald:unauthorized', () => {
  if (!state.session) return;
  setSession(null);
  const here = location.pathname + location.search;
  navigate(`${ROOT}/login?next=${encodeURIComponent(here)}&expired=1`, { replace: true });
});

// Start: restore the session, then draw.
async function start() {
  replace(appEl, h('main', { id: 'main', class: 'main' }, skeleton(3, { label: 'Loading Herald…' })));
  try {
    setSession(await api.session.get());
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status !== 401 && err.status !== 404)) {
      replace(appEl, h('main', { id: 'main', class: 'main' },
        h('h1', { class: 'page-title' }, 'Herald'),
        errorState(err, () => start())));
      return;
    }
    setSession(null);
  }
  render();
}

start();
