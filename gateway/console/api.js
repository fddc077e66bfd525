// Talking to the gateway: the key lives in sessionStorage only (gone when the tab closes), travels only in
// the Authorization header, never in a URL, a cookie or a log line.

const KEY_ITEM = 'gpt-orchestrator.console.key';
const listeners = new Set();

export const session = {
  get key() {
    return sessionStorage.getItem(KEY_ITEM);
  },
  set(key) {
    sessionStorage.setItem(KEY_ITEM, key);
  },
  clear() {
    sessionStorage.removeItem(KEY_ITEM);
  },
};

/** Called with the error when the gateway refuses the key (401): the console signs out. */
export function onUnauthorized(listener) {
  listeners.add(listener);
}

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && typeof body === 'object' && body.error) || {};
    super(error.message || `the gateway answered ${status}`);
    this.status = status;
    this.type = error.type || (status ? `HTTP ${status}` : 'NetworkError');
    this.field = error.field || null;
    this.details = error.details ?? null;
    this.body = body;
  }
}

export function authHeaders(extra = {}) {
  const headers = { ...extra };
  if (session.key) headers.Authorization = `Bearer ${session.key}`;
  return headers;
}

/** fetch + JSON; throws ApiError for any status not ok and not in `allow`. */
export async function api(path, { method = 'GET', body, signal, allow = [], headers = {} } = {}) {
  const init = {
    method,
    headers: authHeaders({ Accept: 'application/json', ...headers }),
    signal,
    cache: 'no-store',
    credentials: 'omit',
    redirect: 'error',
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, { error: { type: 'NetworkError', message: 'the gateway did not answer' } });
  }
  const text = await resp.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { error: { type: 'BadResponse', message: text.slice(0, 300) } };
    }
  }
  if (!resp.ok && !allow.includes(resp.status)) {
    const error = new ApiError(resp.status, data);
    if (resp.status === 401) listeners.forEach((listener) => listener(error));
    throw error;
  }
  return { status: resp.status, data, headers: resp.headers };
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
