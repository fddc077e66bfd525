// The console's shell: sign-in, who am I, which pages this gateway and this key's role offer, and a
// hash router (#/jobs, #/jobs/<id>, #/approvals, #/gpt, #/gpt/<id>, #/fleets, #/intents, #/schedules).

import { api, onUnauthorized, session } from './api.js';
import { h, replace } from './dom.js';
import { ctx } from './state.js';
import { approvalsPage } from './pages/approvals.js';
import { fleetsPage } from './pages/fleets.js';
import { gptDetailPage, gptPage } from './pages/gpt.js';
import { intentsPage } from './pages/intents.js';
import { jobDetailPage, jobsPage } from './pages/jobs.js';
import { schedulesPage } from './pages/schedules.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const identity = document.getElementById('identity');

let leaving = null; // AbortController of the page on screen

function pages() {
  const list = [
    ['/jobs', 'Jobs'],
    ['/approvals', 'Approvals'],
    ['/gpt', 'GPT workflows'],
    ['/fleets', 'Fleets'],
    ['/intents', 'Intents'],
  ];
  if (ctx.features.schedules) list.push(['/schedules', 'Schedules']);
  return list;
}

function renderChrome() {
  nav.hidden = !ctx.me;
  replace(nav, ctx.me ? h('ul', {}, pages().map(([path, label]) => h('li', {}, h('a', { href: `#${path}`, dataset: { path } }, label)))) : '');
  if (!ctx.me) {
    replace(identity, '');
    return;
  }
  replace(
    identity,
    h('span', { class: 'who', title: 'The signed-in key' }, ctx.me.name, ' · ', h('strong', { 'data-role': ctx.me.role }, ctx.me.role), ' · ', ctx.me.tenant),
    h('button', { type: 'button', class: 'secondary', onclick: signOut }, 'Sign out'),
  );
}

function highlightNav(path) {
  for (const a of nav.querySelectorAll('a')) {
    const here = path === a.dataset.path || path.startsWith(`${a.dataset.path}/`);
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function signInPage(message) {
  const input = h('input', { id: 'api-key', name: 'api-key', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'key-help' });
  const error = h('p', { id: 'sign-in-error', class: 'field-error', role: 'alert' }, message || '');
  const form = h(
    'form',
    { class: 'card sign-in', 'aria-labelledby': 'sign-in-title', novalidate: true },
    h('h1', { id: 'sign-in-title' }, 'Sign in'),
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h('p', { id: 'key-help', class: 'muted' }, 'Kept in this tab only (sessionStorage), sent as a bearer token; closing the tab forgets it.'),
    error,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      error.textContent = 'Enter an API key.';
      input.focus();
      return;
    }
    session.set(key);
    input.value = '';
    await start();
  });
  replace(main, form);
  input.focus();
}

async function signOut() {
  session.clear();
  ctx.me = null;
  leaving?.abort();
  renderChrome();
  ctx.notify('');
  signInPage('Signed out.');
}

async function detect() {
  const probe = async (path) => {
    try {
      const { status } = await api(path, { allow: [403, 404, 405, 422] });
      return status !== 404 && status !== 405;
    } catch {
      return false;
    }
  };
  const [search, schedules, config] = await Promise.all([
    probe('/jobs?limit=1'),
    probe('/schedules'),
    api('/console/config').then((r) => r.data).catch(() => null),
  ]);
  ctx.features = { search, schedules };
  ctx.config = config;
}

async function start() {
  if (!session.key) {
    signInPage();
    return;
  }
  try {
    ctx.me = (await api('/whoami')).data;
  } catch (err) {
    session.clear();
    ctx.me = null;
    renderChrome();
    signInPage(err.status === 401 ? `The gateway refused this key: ${err.message}` : `Could not sign in: ${err.message}`);
    return;
  }
  await detect();
  renderChrome();
  if (!location.hash || location.hash === '#' || location.hash === '#/') location.hash = ctx.can('decide') ? '#/approvals' : '#/jobs';
  else await route();
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = raw.split('?');
  return { path, params: new URLSearchParams(search), parts: path.split('/').filter(Boolean).map(decodeURIComponent) };
}

async function route() {
  if (!ctx.me) return;
  leaving?.abort();
  leaving = new AbortController();
  const page = { signal: leaving.signal };
  const { path, params, parts } = parseHash();
  highlightNav(path);
  ctx.notify('');
  const [section, id] = parts;
  const view = h('div', { class: 'page' });
  replace(main, view);
  try {
    if (section === 'jobs' && id) await jobDetailPage(view, id, page);
    else if (section === 'jobs') await jobsPage(view, params, page);
    else if (section === 'approvals') await approvalsPage(view, page);
    else if (section === 'gpt' && id) await gptDetailPage(view, id, page);
    else if (section === 'gpt') await gptPage(view, page);
    else if (section === 'fleets') await fleetsPage(view, params, page);
    else if (section === 'intents') await intentsPage(view, params, page);
    else if (section === 'schedules' && ctx.features.schedules) await schedulesPage(view, page);
    else replace(view, h('h1', {}, 'Not found'), h('p', {}, 'No such page in the console.'));
  } catch (err) {
    if (err?.name === 'AbortError') return;
    replace(view, h('h1', {}, 'Something went wrong'), h('p', { class: 'field-error', role: 'alert' }, `${err.type || 'Error'}: ${err.message}`));
  }
  const heading = view.querySelector('h1');
  if (heading) document.title = `${heading.textContent} · gpt-orchestrator`;
}

onUnauthorized(() => {
  if (!ctx.me) return;
  session.clear();
  ctx.me = null;
  leaving?.abort();
  renderChrome();
  signInPage('The gateway no longer accepts this key (revoked, rotated or expired). Sign in again.');
});

window.addEventListener('hashchange', () => {
  route().then(() => {
    window.scrollTo(0, 0);
    main.focus({ preventScroll: true });
  });
});
window.addEventListener('unhandledrejection', (event) => {
  if (event.reason?.name === 'AbortError') event.preventDefault();
});

start();
