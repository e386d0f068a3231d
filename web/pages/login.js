// Log in: email + password → session cookie. Bad credentials get one generic message;
// throttling (429) shows how long to wait and counts down.
import { h } from '../lib/dom.js';
import { api, ApiError, describeError } from '../lib/api.js';
import { field, formAlert, showFormError, clearFormErrors } from '../lib/ui.js';
import { busy as busyButton } from '../lib/dom.js';

export async function render(main, ctx) {
  ctx.setTitle('Log in');
  const email = field({ label: 'Email', name: 'email', type: 'email',
    attrs: { autocomplete: 'username', required: true, spellcheck: 'false', autocapitalize: 'none' } });
  const password = field({ label: 'Password', name: 'password', type: 'password',
    attrs: { autocomplete: 'current-password', required: true } });
  const alert = formAlert();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Log in');
  const fields = { email, password };

  const notice = ctx.query.get('expired')
    ? h('div', { class: 'alert alert-info', role: 'status' }, h('p', {}, 'Your session has ended. Please log in again.'))
    : null;

  let countdown = null;
  let throttledUntil = 0;
  ctx.onLeave(() => clearInterval(countdown));

  // Counts down a 429's Retry-After; the button stays disabled until it ends.
  function throttle(seconds) {
    clearInterval(countdown);
    throttledUntil = Date.now() + Math.max(1, seconds) * 1000;
    const tick = () => {
      const left = Math.ceil((throttledUntil - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(countdown);
        submit.disabled = false;
        alert.show('You can try again now.');
        return;
      }
      submit.disabled = true;
      alert.show(`Too many failed attempts. Try again in ${left} second${left === 1 ? '' : 's'}.`);
    };
    tick();
    countdown = setInterval(tick, 1000);
  }

  const form = h('form', { class: 'stack', novalidate: true, 'aria-labelledby': 'login-title' },
    alert.root, email.root, password.root, submit);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFormErrors({ fields, alert });
    const values = { email: email.control.value.trim(), password: password.control.value };
    let missing = false;
    if (!values.email) {
      email.setError('Enter your email address.');
      missing = true;
    }
    if (!values.password) {
      password.setError('Enter your password.');
      missing = true;
    }
    if (missing) {
      (values.email ? password : email).control.focus();
      return;
    }
    await busyButton(submit, async () => {
      try {
        const session = await api.session.create(values.email, values.password);
        ctx.login(session);
        const next = ctx.query.get('next');
        const safe = next && next.startsWith('/app/') && !next.startsWith('/app/login') ? next : ctx.homeFor(session);
        ctx.navigate(safe, { replace: true });
      } catch (err) {
        password.control.value = '';
        if (err instanceof ApiError && err.status === 401) {
          alert.show('Email or password is incorrect.');
          email.control.focus();
        } else if (err instanceof ApiError && err.status === 429) {
          throttle(err.retryAfter ?? 30);
          alert.root.focus();
        } else if (err instanceof ApiError && Object.keys(err.fields).length) {
          showFormError(err, { fields, alert });
        } else {
          alert.show(describeError(err));
          alert.root.focus();
        }
      }
    });
    if (Date.now() < throttledUntil) submit.disabled = true;
  });

  main.replaceChildren(
    h('div', { class: 'auth-card card' },
      h('div', { class: 'auth-brand' },
        h('img', { src: '/app/herald.svg', alt: '', width: 40, height: 40 }),
        h('span', {}, 'Herald')),
      h('h1', { id: 'login-title', class: 'page-title', tabindex: '-1' }, 'Log in'),
      h('p', { class: 'muted' }, 'Email and SMS for your listings, under your brand.'),
      notice,
      form));
  email.control.focus();
}
