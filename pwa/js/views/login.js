/** Login: username and password; after a session expired offline, queued actions replay once logged in. */

import { login } from '../api.js';
import { afterLogin } from '../app.js';
import { esc } from '../format.js';
import { t } from '../i18n.js';
import { pendingCount } from '../outbox.js';

/** Render the login form. */
export async function render(root, params) {
  const expired = params[0] === 'expired';
  const waiting = await pendingCount().catch(() => 0);
  root.innerHTML = `
    <section class="card">
      <h2>${esc(t('login.title'))}</h2>
      ${expired ? `<p class="conflict" role="alert">${esc(t('login.expired'))}</p>` : ''}
      ${waiting ? `<p class="muted">${esc(t('login.waiting', { count: waiting }))}</p>` : ''}
      <form id="login-form" autocomplete="on">
        <label for="username">${esc(t('login.username'))}</label>
        <input id="username" name="username" autocomplete="username" autocapitalize="none" required>
        <label for="password">${esc(t('login.password'))}</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required>
        <p id="login-error" class="conflict hidden" role="alert"></p>
        <div class="actions"><button type="submit" id="login-submit">${esc(t('login.submit'))}</button></div>
      </form>
    </section>`;
  const form = root.querySelector('#login-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const error = root.querySelector('#login-error');
    error.classList.add('hidden');
    const button = root.querySelector('#login-submit');
    button.disabled = true;
    try {
      const user = await login(form.username.value.trim(), form.password.value);
      await afterLogin(user);
    } catch (e) {
      error.textContent = e.status === 401 || e.status === 403 ? t('login.failed') : e.status === 429 ? t('login.throttled') : t('login.offline');
      error.classList.remove('hidden');
    } finally {
      button.disabled = false;
    }
  });
}
