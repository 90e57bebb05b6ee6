// The operator console (/console): sign in with an API token, then every page is built from the
// public REST API and follows it every few seconds while open.
import { auditView, nodesView, tokensView, webhooksView } from './admin-views';
import { ApiError, signIn, storedToken, storeToken, type Session } from './api';
import { createView } from './create-view';
import { h } from './dom';
import { streamView } from './stream-view';
import { streamsView } from './streams-view';

const REFRESH_MS = 5000;
const main = document.getElementById('main')!;
const nav = document.querySelector<HTMLElement>('[data-role=nav]')!;
const who = document.querySelector<HTMLElement>('[data-role=who]')!;
const signOut = document.querySelector<HTMLButtonElement>('[data-role=sign-out]')!;
let session: Session | undefined;
let refresh: (() => Promise<void>) | undefined;
let shown = 0;

function go(hash: string): void {
  if (location.hash === hash) void route();
  else location.hash = hash;
}

function showSignIn(message = ''): void {
  session = undefined;
  refresh = undefined;
  nav.hidden = true;
  signOut.hidden = true;
  who.textContent = '';
  const input = h('input', { id: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const error = h('p', { class: 'error', role: 'alert', 'data-role': 'sign-in-error' }, message);
  const form = h(
    'form',
    { class: 'panel', 'data-role': 'sign-in' },
    h('h1', {}, 'Sign in'),
    h('label', { for: 'token' }, 'API token (admin, or read for a read-only console)'),
    input,
    error,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Sign in')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void signIn(input.value.trim())
      .then((signedIn) => {
        storeToken(signedIn.token);
        start(signedIn);
      })
      .catch((failure: unknown) => {
        error.textContent =
          failure instanceof ApiError && failure.status === 401 ? 'This token is not valid.' : failure instanceof ApiError ? failure.message : 'The origin cannot be reached.';
      });
  });
  main.replaceChildren(form);
  input.focus();
}

function start(signedIn: Session): void {
  session = signedIn;
  nav.hidden = false;
  signOut.hidden = false;
  who.textContent = `${signedIn.name} · ${signedIn.scope === 'admin' ? 'admin' : 'read-only'}`;
  document.body.dataset.scope = signedIn.scope;
  if (!location.hash) location.hash = '#/streams';
  else void route();
}

async function route(): Promise<void> {
  if (!session) return;
  const current = session;
  const view = ++shown;
  refresh = undefined;
  const [, section = 'streams', id] = location.hash.split('/');
  for (const link of nav.querySelectorAll('a')) {
    if (link.getAttribute('href') === `#/${section === 'new' ? 'streams' : section}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  try {
    let next: (() => Promise<void>) | undefined;
    if (section === 'streams' && id) next = await streamView(current, main, id, go);
    else if (section === 'new') createView(current, main);
    else if (section === 'tokens') next = await tokensView(current, main);
    else if (section === 'webhooks') next = await webhooksView(current, main);
    else if (section === 'audit') next = await auditView(current, main);
    else if (section === 'nodes') next = await nodesView(current, main);
    else next = await streamsView(current, main);
    if (view === shown) refresh = next;
  } catch (error) {
    handle(error);
  }
}

function handle(error: unknown): void {
  if (error instanceof ApiError && error.status === 401) {
    storeToken(null);
    showSignIn('The token no longer works: sign in again.');
    return;
  }
  main.replaceChildren(
    h('h1', {}, 'Something went wrong'),
    h('p', { class: 'error' }, error instanceof Error ? error.message : String(error)),
    h('p', {}, h('a', { href: '#/streams' }, 'Back to the streams')),
  );
}

signOut.addEventListener('click', () => {
  storeToken(null);
  showSignIn();
});
window.addEventListener('hashchange', () => void route());
window.setInterval(() => {
  // Not while the operator is typing into a form, nor in a hidden tab.
  if (!refresh || document.hidden || (document.activeElement && ['INPUT', 'SELECT'].includes(document.activeElement.tagName))) return;
  refresh().catch(handle);
}, REFRESH_MS);

const token = storedToken();
if (token) {
  signIn(token).then(start, () => {
    storeToken(null);
    showSignIn();
  });
} else {
  showSignIn();
}
