// The dashboard's only door to the server: JSON over fetch with the session cookie, the
// CSRF token on every state change, and problem+json errors turned into ApiError.

const BASE = '/api/v1';
let csrfToken = null;

// Set from the session body after login or on start-up.
export function setCsrfToken(token) {
  csrfToken = token ?? null;
}

// An HTTP or network failure. `fields` maps a field name to the server's message for it.
export class ApiError extends Error {
  constructor(status, problem = {}, { retryAfter = null } = {}) {
    super(problem.detail || problem.title || `Request failed (${status})`);
    this.name = 'ApiError';
    this.status = status;
    this.title = problem.title ?? '';
    this.detail = problem.detail ?? '';
    this.problem = problem;
    this.retryAfter = retryAfter;
    this.fields = {};
    for (const e of Array.isArray(problem.errors) ? problem.errors : []) {
      if (e && e.field && !(e.field in this.fields)) this.fields[e.field] = e.message || 'Invalid value';
    }
  }

  // Field errors whose field is not in `known` (shown in the form's summary instead).
  otherFieldErrors(known) {
    return Object.entries(this.fields).filter(([f]) => !known.includes(f));
  }
}

// Human wording for an error, for alerts. Field errors are shown by their fields.
export function describeError(err) {
  if (!(err instanceof ApiError)) return 'Something went wrong. Please try again.';
  if (err.status === 0) return 'Can’t reach Herald. Check your connection and try again.';
  if (err.status === 401) return 'Your session has ended. Please log in again.';
  if (err.status === 403) return 'You don’t have access to this. Reload the page and try again.';
  if (err.status === 404) return err.detail || 'Not found.';
  if (err.status === 429) {
    return err.retryAfter
      ? `Too many attempts. Try again in ${err.retryAfter} seconds.`
      : 'Too many attempts. Try again shortly.';
  }
  if (err.status >= 500) return 'Herald had a problem handling that. Please try again in a moment.';
  const text = err.detail || err.title || 'The request was not accepted.';
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// One request. Resolves with the parsed JSON body (null for 204), rejects with ApiError.
// 401 on anything but the session endpoint fires `herald:unauthorized` on window.
export async function request(method, path, body, { signal } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal,
    });
  } catch (e) {
    if (e?.name === 'AbortError') throw e;
    throw new ApiError(0, { title: 'Network error' });
  }
  let data = null;
  const type = res.headers.get('Content-Type') ?? '';
  if (res.status !== 204 && type.includes('json')) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const retry = Number.parseInt(res.headers.get('Retry-After') ?? '', 10);
    const err = new ApiError(res.status, data ?? { title: res.statusText },
      { retryAfter: Number.isFinite(retry) ? retry : null });
    if (res.status === 401 && path !== '/session') {
      window.dispatchEvent(new CustomEvent('herald:unauthorized'));
    }
    throw err;
  }
  return data;
}

const enc = encodeURIComponent;

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// The endpoints the dashboard uses, named after what they do.
export const api = {
  session: {
    get: () => request('GET', '/session'),
    create: (email, password) => request('POST', '/session', { email, password }),
    destroy: () => request('DELETE', '/session'),
  },
  agent: {
    get: (id) => request('GET', `/agents/${enc(id)}`),
    patch: (id, changes) => request('PATCH', `/agents/${enc(id)}`, changes),
  },
  branding: {
    get: (id) => request('GET', `/agents/${enc(id)}/branding`),
    put: (id, branding) => request('PUT', `/agents/${enc(id)}/branding`, branding),
  },
  integrations: {
    get: (id) => request('GET', `/agents/${enc(id)}/integrations`),
    put: (id, channel, body) => request('PUT', `/agents/${enc(id)}/integrations/${channel}`, body),
    remove: (id, channel) => request('DELETE', `/agents/${enc(id)}/integrations/${channel}`),
    setActive: (id, channel, active) =>
      request('PATCH', `/agents/${enc(id)}/integrations/${channel}`, { active }),
    test: (id, channel) => request('POST', `/agents/${enc(id)}/integrations/${channel}/test`),
  },
  routes: (id) => request('GET', `/agents/${enc(id)}/routes`),
  providers: (channel) => request('GET', `/providers${query({ channel })}`),
  messages: {
    list: (id, params, opts) => request('GET', `/agents/${enc(id)}/messages${query(params)}`, undefined, opts),
    get: (mid, opts) => request('GET', `/messages/${enc(mid)}`, undefined, opts),
  },
  tokens: {
    list: (id) => request('GET', `/agents/${enc(id)}/tokens`),
    create: (id, name) => request('POST', `/agents/${enc(id)}/tokens`, { name }),
    revoke: (id, tid) => request('DELETE', `/agents/${enc(id)}/tokens/${enc(tid)}`),
  },
  admin: {
    agents: (params) => request('GET', `/agents${query(params)}`),
    usage: (params) => request('GET', `/admin/usage${query(params)}`),
    platform: () => request('GET', '/admin/platform'),
  },
};
