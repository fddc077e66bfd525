// Intents: the catalog (GET /intents), and for each a form generated from its JSON schema to try it
// (POST /orchestrate, async). Fields the form cannot express (objects, $refs) are edited as JSON.

import { api } from '../api.js';
import { h, jobLink, link, pre, replace } from '../dom.js';
import { ctx } from '../state.js';

function resolve(schema, root) {
  if (schema && schema.$ref && typeof schema.$ref === 'string' && schema.$ref.startsWith('#/')) {
    let node = root;
    for (const part of schema.$ref.slice(2).split('/')) node = node?.[part];
    return node || schema;
  }
  if (schema?.anyOf) {
    const concrete = schema.anyOf.filter((s) => s.type !== 'null');
    if (concrete.length === 1) return { ...concrete[0], ...schema, anyOf: undefined, nullable: true };
  }
  return schema || {};
}

function control(name, schema, root, example) {
  const s = resolve(schema, root);
  const id = `in-${name}`;
  const value = example !== undefined ? example : s.default;
  const describedBy = s.description ? `${id}-help` : undefined;
  const common = { id, name, 'aria-describedby': describedBy };
  let input;
  let read;
  if (Array.isArray(s.enum)) {
    input = h('select', common, s.nullable ? h('option', { value: '' }, '—') : '', s.enum.map((v) => h('option', { value: String(v), selected: v === value }, String(v))));
    read = () => (input.value === '' ? undefined : s.enum.find((v) => String(v) === input.value));
  } else if (s.type === 'boolean') {
    input = h('input', { ...common, type: 'checkbox', checked: Boolean(value) });
    read = () => input.checked;
  } else if (s.type === 'integer' || s.type === 'number') {
    input = h('input', { ...common, type: 'number', step: s.type === 'integer' ? '1' : 'any', min: s.minimum, max: s.maximum, value: value ?? '' });
    read = () => (input.value === '' ? undefined : Number(input.value));
  } else if (s.type === 'string' && !s.format?.includes('binary')) {
    const long = (s.maxLength || 0) > 200 || name === 'command' || name === 'text' || name === 'message';
    input = long ? h('textarea', { ...common, rows: '3', maxlength: s.maxLength }) : h('input', { ...common, maxlength: s.maxLength, autocomplete: 'off' });
    input.value = value ?? '';
    read = () => (input.value === '' ? undefined : input.value);
  } else if (s.type === 'array' && resolve(s.items, root)?.type === 'string') {
    input = h('input', { ...common, autocomplete: 'off', placeholder: 'comma, separated' });
    input.value = Array.isArray(value) ? value.join(', ') : '';
    read = () => (input.value.trim() === '' ? undefined : input.value.split(',').map((x) => x.trim()).filter(Boolean));
  } else {
    input = h('textarea', { ...common, rows: '3', class: 'code', spellcheck: 'false' });
    input.value = value === undefined ? '' : JSON.stringify(value, null, 2);
    read = () => {
      if (input.value.trim() === '') return undefined;
      try {
        return JSON.parse(input.value);
      } catch {
        throw Object.assign(new Error('not valid JSON'), { field: name });
      }
    };
  }
  const error = h('p', { id: `${id}-error`, class: 'field-error', role: 'alert' });
  const wrap = h(
    'div',
    { class: 'field', dataset: { field: name } },
    h('label', { for: id }, s.title || name, ''),
    input,
    s.description ? h('p', { id: `${id}-help`, class: 'muted' }, s.description) : '',
    error,
  );
  return { wrap, read, error, input };
}

function tryForm(spec, signal) {
  const root = spec.input_schema || {};
  const required = new Set(root.required || []);
  const fields = Object.entries(root.properties || {}).map(([name, schema]) => ({ name, required: required.has(name), ...control(name, schema, root, spec.example?.[name]) }));
  const result = h('div', { class: 'try-result', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'try-title', novalidate: true },
    h('h2', { id: 'try-title' }, 'Try it'),
    fields.map((f) => {
      if (f.required) f.wrap.querySelector('label').append(h('span', { class: 'required', 'aria-label': 'required' }, ' *'));
      return f.wrap;
    }),
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, `Run ${spec.name}`)),
    result,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    fields.forEach((f) => {
      f.error.textContent = '';
      f.input.removeAttribute('aria-invalid');
    });
    replace(result, '');
    const inputs = {};
    try {
      for (const f of fields) {
        const value = f.read();
        if (value !== undefined) inputs[f.name] = value;
      }
    } catch (err) {
      const f = fields.find((x) => x.name === err.field);
      if (f) {
        f.error.textContent = err.message;
        f.input.setAttribute('aria-invalid', 'true');
        f.input.focus();
      }
      return;
    }
    try {
      const { data } = await api('/orchestrate', { method: 'POST', body: { intent: spec.name, inputs, async: true }, signal });
      replace(result, h('p', {}, `${data.status}: `, jobLink(data.job_id, 'open the job')));
    } catch (err) {
      if (err.name === 'AbortError') return;
      const problems = Array.isArray(err.details) ? err.details : [];
      let placed = false;
      for (const p of problems.length ? problems : [{ field: err.field, message: err.message }]) {
        const name = String(p.field || '').replace(/^inputs\./, '').split('.')[0];
        const f = fields.find((x) => x.name === name);
        if (f) {
          f.error.textContent = p.message || p.reason || err.message;
          f.input.setAttribute('aria-invalid', 'true');
          if (!placed) f.input.focus();
          placed = true;
        }
      }
      replace(result, h('p', { class: 'field-error', role: 'alert' }, `${err.type}: ${err.message}`));
    }
  }, { signal });
  return form;
}

export async function intentsPage(view, params, { signal }) {
  const { data } = await api('/intents', { signal });
  const intents = data.intents || [];
  const chosen = params.get('name');
  const spec = intents.find((i) => i.name === chosen);
  if (spec) {
    view.append(
      h('p', {}, link('/intents', '← All intents')),
      h('h1', {}, spec.name),
      h('p', {}, spec.description),
      h('p', { class: 'muted' }, `${spec.mode} mode · ${spec.read_only ? 'read-only' : 'consequential'}${spec.route ? ` · route ${spec.route}` : ''}`),
      ctx.can('run') ? tryForm(spec, signal) : h('p', { class: 'muted role-note' }, `Your key's role (${ctx.me.role}) cannot run intents.`),
      h('details', {}, h('summary', {}, 'JSON schema'), pre(spec.input_schema)),
    );
    return;
  }
  const filter = h('input', { id: 'intent-filter', type: 'search', autocomplete: 'off' });
  const list = h('ul', { class: 'catalog' });
  const draw = () => {
    const needle = filter.value.trim().toLowerCase();
    replace(
      list,
      intents
        .filter((i) => !needle || i.name.toLowerCase().includes(needle) || (i.description || '').toLowerCase().includes(needle))
        .map((i) => h('li', {}, link(`/intents?name=${encodeURIComponent(i.name)}`, i.name, { class: 'mono' }), h('span', { class: 'muted' }, ` ${i.mode}${i.read_only ? ' · read-only' : ''}`), h('p', {}, i.description))),
    );
  };
  filter.addEventListener('input', draw, { signal });
  view.append(h('h1', {}, 'Intents'), h('div', { class: 'field' }, h('label', { for: 'intent-filter' }, 'Filter'), filter), list);
  draw();
}
