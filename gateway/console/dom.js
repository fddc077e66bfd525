// Building the page with DOM APIs only. Every value from the server becomes a text node or an attribute
// value, never markup: there is no innerHTML anywhere in the console (and the page's CSP requires
// Trusted Types, so a string assigned to innerHTML would throw rather than render).

const SVG_NS = 'http://www.w3.org/2000/svg';
const BOOLEAN_PROPS = new Set(['checked', 'disabled', 'hidden', 'selected', 'required', 'readOnly', 'open']);

function apply(el, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.setAttribute('class', value);
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'value') el.value = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (BOOLEAN_PROPS.has(key)) el[key] = true;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** h('a', {href: '#/jobs', class: 'x'}, 'text', otherNode): an element; strings become text nodes. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  apply(el, props);
  return append(el, children);
}

export function svg(tag, props = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, props);
  return append(el, children);
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A value as readable text: strings as they are, anything else as indented JSON. */
export function asText(value) {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

export function pre(value, props = {}) {
  return h('pre', { class: 'value', tabindex: '0', ...props }, asText(value));
}

/** A definition list from [label, value] pairs, skipping empty values. */
export function facts(pairs) {
  const dl = h('dl', { class: 'facts' });
  for (const [label, value] of pairs) {
    if (value === undefined || value === null || value === '') continue;
    dl.append(h('dt', {}, label), h('dd', {}, value instanceof Node ? value : String(value)));
  }
  return dl;
}

const STATUS_CLASS = {
  success: 'ok', succeeded: 'ok', approved: 'ok',
  running: 'run', started: 'run', created: 'idle', pending: 'idle', accepted: 'run',
  awaiting_approval: 'wait',
  error: 'bad', failed: 'bad', rejected: 'bad', expired: 'bad', timed_out: 'bad', terminated: 'bad',
  cancelled: 'off', skipped: 'off', not_run: 'off',
};

export function badge(status) {
  const text = String(status ?? 'unknown');
  return h('span', { class: `badge ${STATUS_CLASS[text] || 'idle'}`, dataset: { status: text } }, text.replaceAll('_', ' '));
}

export function when(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function duration(ms) {
  if (ms === undefined || ms === null) return '';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s % 60)} s`;
}

/** "4 min 12 s" until `iso`, or "expired". */
export function countdown(iso, now = Date.now()) {
  const left = Math.round((new Date(iso).getTime() - now) / 1000);
  if (!Number.isFinite(left)) return '';
  if (left <= 0) return 'expired';
  const h_ = Math.floor(left / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = left % 60;
  return h_ ? `${h_} h ${m} min` : m ? `${m} min ${s} s` : `${s} s`;
}

/** Our own in-console links only: '#/jobs/<id>' with the id encoded. */
export function link(path, label, props = {}) {
  return h('a', { href: `#${path}`, ...props }, label);
}

export function jobLink(jobId, label) {
  return link(`/jobs/${encodeURIComponent(jobId)}`, label ?? jobId, { class: 'mono' });
}

export function usageText(usage) {
  if (!usage || typeof usage !== 'object') return '';
  const parts = [];
  if (usage.total_tokens !== undefined) parts.push(`${usage.total_tokens} tokens`);
  if (usage.prompt_tokens !== undefined) parts.push(`${usage.prompt_tokens} in / ${usage.completion_tokens ?? 0} out`);
  if (usage.cost_usd !== undefined && usage.cost_usd !== null) parts.push(`$${Number(usage.cost_usd).toFixed(4)}`);
  return parts.join(' · ');
}
