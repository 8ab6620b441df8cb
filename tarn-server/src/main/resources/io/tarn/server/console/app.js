// The console's frame: logging in with a token, the menu, and which page a URL shows (#/<page>/<name>).
import { ApiError, forgetToken, onUnauthorized, setToken, token } from './api.js';
import { pages } from './pages.js';
import { errorBox, h } from './widgets.js';

const root = document.getElementById('page');
const nav = document.getElementById('nav');
let leaving = [];

/** What a page may ask of the frame: timers and streams that end when the user goes to another page. */
function context() {
  const mine = [];
  leaving = mine;
  return {
    every(ms, task) {
      let stopped = false;
      let timer = null;
      const tick = async () => {
        try {
          await task();
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 401)) {
            console.warn('refresh failed', e.message);
          }
        }
        if (!stopped) {
          timer = setTimeout(tick, ms);
        }
      };
      timer = setTimeout(tick, ms);
      mine.push(() => {
        stopped = true;
        clearTimeout(timer);
      });
    },
    onLeave(task) {
      mine.push(task);
    },
    get current() {
      return leaving === mine;
    },
  };
}

function route() {
  const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  const [path, query] = hash.split('?');
  const parts = path.split('/').filter((p) => p.length > 0);
  return { page: parts[0] || 'overview', rest: parts.slice(1), query: new URLSearchParams(query || '') };
}

async function show() {
  leaving.forEach((task) => task());
  leaving = [];
  // http://host:port/#token=… logs in directly; the token leaves the address bar at once
  const given = /^#token=(.+)$/.exec(location.hash);
  if (given) {
    setToken(decodeURIComponent(given[1]));
    history.replaceState(null, '', location.pathname + '#/overview');
  }
  const { page, rest, query } = route();
  if (page === 'logout') {
    forgetToken();
    location.hash = '#/login';
    return;
  }
  if (!token() || page === 'login') {
    nav.hidden = true;
    root.replaceChildren(login());
    return;
  }
  nav.hidden = false;
  for (const a of nav.querySelectorAll('a')) {
    a.classList.toggle('active', a.getAttribute('href') === '#/' + page);
  }
  const render = pages[page];
  if (!render) {
    root.replaceChildren(h('h2', {}, 'Not found'), h('p', {}, 'The console has no page ' + page + '.'));
    return;
  }
  const ctx = context();
  const body = h('div', { 'data-page': page });
  root.replaceChildren(body);
  try {
    await render(body, rest, query, ctx);
  } catch (e) {
    if (ctx.current) {
      body.append(errorBox(e));
    }
  }
}

function login(message) {
  const input = h('input', { type: 'password', name: 'token', id: 'token', placeholder: 'tarn_…', autocomplete: 'off', required: true });
  const status = h('div');
  if (message) {
    status.append(errorBox(message));
  }
  const form = h(
    'form',
    {
      class: 'login',
      onsubmit: async (event) => {
        event.preventDefault();
        await useToken(input.value.trim(), status);
      },
    },
    h('h2', {}, 'Log in to Tarn'),
    h('p', { class: 'muted' }, 'Paste a token: the admin token is in the file admin.token of the data directory; ',
      'tarn tokens create makes others.'),
    h('label', { for: 'token' }, 'Token', input),
    status,
    h('button', { type: 'submit', id: 'login' }, 'Log in'),
  );
  return form;
}

async function useToken(value, status) {
  try {
    const answer = await fetch('/v1/overview', { headers: { Authorization: 'Bearer ' + value } });
    if (answer.status === 401) {
      status.replaceChildren(errorBox('That token is not valid.'));
      return;
    }
    setToken(value);
    location.hash = '#/overview';
    if (route().page === 'overview') {
      show();
    }
  } catch (e) {
    status.replaceChildren(errorBox(e));
  }
}

onUnauthorized(() => {
  forgetToken();
  nav.hidden = true;
  leaving.forEach((task) => task());
  leaving = [];
  root.replaceChildren(login('The token is no longer valid; log in again.'));
});

window.addEventListener('hashchange', show);
show();
