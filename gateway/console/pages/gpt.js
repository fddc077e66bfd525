// GPT workflows: the list, create from JSON (validation errors shown at the field they name), and one
// workflow drawn as its DAG with live step states, outputs, usage and cost; execute and cancel.

import { api } from '../api.js';
import { asText, badge, facts, h, jobLink, link, pre, replace, svg, usageText, when } from '../dom.js';
import { every, watchJob } from '../live.js';
import { ctx } from '../state.js';
import { decisionCard } from './decision.js';

const EXAMPLE = {
  name: 'Three steps',
  description: 'Write, review, publish',
  parallel: false,
  steps: [
    { stepId: 'draft', gpt: 'Wanderweave', action: 'message', params: { message: 'Draft a short travel note about Lisbon' } },
    { stepId: 'review', gpt: 'Shield Core', action: 'message', params: { message: 'Review: {{steps.draft.output}}' }, waitFor: ['draft'] },
    { stepId: 'publish', gpt: 'ShowBuilder GPT', action: 'message', params: { message: 'Format: {{steps.review.output}}' }, waitFor: ['review'] },
  ],
};
const FINISHED = new Set(['succeeded', 'failed', 'cancelled', 'terminated', 'timed_out']);

/** Where a field path like `steps[1].params.text` or `steps.1.gpt` points in the JSON text (a line number). */
function lineOf(text, field) {
  const parts = String(field || '').replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean);
  if (!parts.length) return null;
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  // Find the key of the deepest part that exists, then its line in the text (first occurrence after the parent's).
  let index = 0;
  let node = value;
  for (const part of parts) {
    if (node === null || typeof node !== 'object' || !(part in node)) break;
    if (Array.isArray(node)) {
      // the n-th element of an array: find the n-th '{' after the current index at this depth (approximate)
      let count = -1;
      let depth = 0;
      for (let i = index; i < text.length; i++) {
        const c = text[i];
        if (c === '[' || c === '{') {
          depth++;
          if (depth === 2 && c === '{') count++;
          if (count === Number(part) && depth === 2) {
            index = i;
            break;
          }
        } else if (c === ']' || c === '}') depth--;
      }
    } else {
      const at = text.indexOf(`"${part}"`, index);
      if (at === -1) break;
      index = at;
    }
    node = node[part];
  }
  return text.slice(0, index).split('\n').length;
}

function createForm(signal) {
  const text = h('textarea', { id: 'definition', name: 'definition', rows: '18', spellcheck: 'false', class: 'code', 'aria-describedby': 'definition-help definition-error' });
  text.value = JSON.stringify(EXAMPLE, null, 2);
  const errors = h('div', { id: 'definition-error', class: 'field-error', role: 'alert' });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'create-title' },
    h('h2', { id: 'create-title' }, 'Create from JSON'),
    h('label', { for: 'definition' }, 'Workflow definition'),
    h('p', { id: 'definition-help', class: 'muted' }, '{name, description, parallel, fail_fast, steps: [{stepId, gpt, action, params, waitFor, condition}]}'),
    text,
    errors,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', name: 'create' }, 'Create'), h('button', { type: 'submit', name: 'create-run', class: 'secondary' }, 'Create and execute')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const run = event.submitter?.name === 'create-run';
    replace(errors, '');
    text.removeAttribute('aria-invalid');
    let definition;
    try {
      definition = JSON.parse(text.value);
    } catch (err) {
      text.setAttribute('aria-invalid', 'true');
      replace(errors, h('p', {}, `body: not valid JSON (${err.message})`));
      return;
    }
    try {
      const created = (await api('/api/gpt-workflows/create', { method: 'POST', body: definition, signal })).data;
      if (run) await api(`/api/gpt-workflows/${encodeURIComponent(created.workflow_id)}/execute?wait=0`, { method: 'POST', signal });
      location.hash = `#/gpt/${encodeURIComponent(created.workflow_id)}`;
    } catch (err) {
      if (err.name === 'AbortError') return;
      text.setAttribute('aria-invalid', 'true');
      const problems = Array.isArray(err.details) && err.details.length ? err.details : [{ field: err.field, message: err.message }];
      replace(
        errors,
        h('p', {}, `${err.type}: the definition was refused`),
        h('ul', { class: 'problems' }, problems.map((p) => {
          const field = p.field || p.loc || err.field;
          const line = lineOf(text.value, field);
          return h('li', { dataset: { field: String(field ?? '') } }, h('code', {}, String(field ?? 'body')), line ? ` (line ${line})` : '', `: ${p.message || p.msg || p.reason || err.message}`);
        })),
      );
      const line = lineOf(text.value, err.field);
      if (line) {
        const lines = text.value.split('\n');
        const start = lines.slice(0, line - 1).join('\n').length + (line > 1 ? 1 : 0);
        text.focus();
        text.setSelectionRange(start, start + lines[line - 1].length);
      }
    }
  }, { signal });
  return form;
}

export async function gptPage(view, { signal }) {
  view.append(h('h1', {}, 'GPT workflows'));
  if (ctx.can('run')) view.append(createForm(signal));
  const body = h('tbody', {});
  view.append(
    h('h2', {}, 'Recent workflows'),
    h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, ['State', 'Name', 'ID', 'Started'].map((c) => h('th', { scope: 'col' }, c)))), body)),
  );
  every(3000, async () => {
    const { data } = await api('/api/gpt-workflows?limit=30', { signal });
    replace(body, data.length ? data.map((w) => h('tr', { dataset: { workflowId: w.workflow_id } }, h('td', {}, badge(w.state)), h('td', {}, link(`/gpt/${encodeURIComponent(w.workflow_id)}`, w.name || w.workflow_id)), h('td', { class: 'mono' }, w.workflow_id), h('td', {}, when(w.started_at)))) : h('tr', {}, h('td', { colspan: '4', class: 'muted' }, 'None yet.')));
  }, signal);
}

// --- the DAG ---------------------------------------------------------------------------------------

function layers(steps) {
  const byId = new Map(steps.map((s) => [s.step_id, s]));
  const depth = new Map();
  const visit = (id, seen = new Set()) => {
    if (depth.has(id)) return depth.get(id);
    if (seen.has(id)) return 0;
    seen.add(id);
    const deps = (byId.get(id)?.wait_for || []).filter((d) => byId.has(d));
    const d = deps.length ? 1 + Math.max(...deps.map((x) => visit(x, seen))) : 0;
    depth.set(id, d);
    return d;
  };
  steps.forEach((s) => visit(s.step_id));
  const columns = [];
  for (const s of steps) (columns[depth.get(s.step_id)] ||= []).push(s);
  return columns;
}

function short(text, n) {
  const value = String(text ?? '');
  return value.length > n ? `${value.slice(0, n - 1)}…` : value;
}

function drawDag(status) {
  const W = 170;
  const H = 56;
  const GX = 60;
  const GY = 24;
  const columns = layers(status.steps);
  const rows = Math.max(1, ...columns.map((c) => c.length));
  const width = columns.length * (W + GX) - GX + 20;
  const height = rows * (H + GY) - GY + 20;
  const at = new Map();
  columns.forEach((col, x) => col.forEach((s, y) => at.set(s.step_id, { x: 10 + x * (W + GX), y: 10 + y * (H + GY) })));
  const graph = svg('svg', { viewBox: `0 0 ${width} ${height}`, width: String(width), height: String(height), role: 'img', 'aria-labelledby': 'dag-title', class: 'dag' });
  graph.append(svg('title', { id: 'dag-title' }, `${status.name}: ${status.steps.map((s) => `${s.step_id} ${s.state}`).join(', ')}`));
  graph.append(svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '10', refY: '5', markerWidth: '8', markerHeight: '8', orient: 'auto-start-reverse' }, svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }))));
  for (const s of status.steps) {
    for (const dep of s.wait_for || []) {
      const a = at.get(dep);
      const b = at.get(s.step_id);
      if (!a || !b) continue;
      graph.append(svg('path', { class: 'edge', d: `M ${a.x + W} ${a.y + H / 2} C ${a.x + W + GX / 2} ${a.y + H / 2}, ${b.x - GX / 2} ${b.y + H / 2}, ${b.x} ${b.y + H / 2}`, 'marker-end': 'url(#arrow)' }));
    }
  }
  for (const s of status.steps) {
    const p = at.get(s.step_id);
    graph.append(
      svg(
        'g',
        { class: `node state-${s.state}`, transform: `translate(${p.x} ${p.y})`, dataset: { step: s.step_id, state: s.state } },
        svg('rect', { width: String(W), height: String(H), rx: '8' }),
        svg('text', { x: '10', y: '22', class: 'node-title' }, short(s.step_id, 18)),
        svg('text', { x: '10', y: '42', class: 'node-sub' }, `${s.state.replaceAll('_', ' ')} · ${short(s.gpt || s.action, 12)}`),
      ),
    );
  }
  return h('div', { class: 'dag-wrap', tabindex: '0', 'aria-label': 'Workflow graph' }, graph);
}

function stepList(status, partials) {
  return h(
    'ol',
    { class: 'steps' },
    status.steps.map((s) => {
      const partial = partials.get(s.step_id);
      return h(
        'li',
        { class: `step state-${s.state}`, dataset: { step: s.step_id, state: s.state } },
        h('div', { class: 'step-head' }, h('strong', {}, s.step_id), ' ', badge(s.state), ' ', h('span', { class: 'muted' }, [s.gpt, s.action].filter(Boolean).join(' · ')), s.usage ? h('span', { class: 'usage' }, ` ${usageText(s.usage)}`) : ''),
        s.wait_for?.length ? h('p', { class: 'muted' }, `waits for ${s.wait_for.join(', ')}`) : '',
        s.reason ? h('p', { class: 'muted' }, s.reason) : '',
        s.error ? pre(`${s.error_type ? `${s.error_type}: ` : ''}${s.error}`, { class: 'value error' }) : '',
        s.output !== null && s.output !== undefined ? h('details', { open: status.steps.length <= 4 }, h('summary', {}, 'Output'), pre(s.output)) : '',
        s.state === 'running' && partial ? h('details', { open: true }, h('summary', {}, 'Writing…'), pre(partial, { class: 'value partial', 'aria-live': 'polite' })) : '',
        s.job_id ? h('p', {}, 'Its job: ', jobLink(s.job_id)) : '',
      );
    }),
  );
}

export async function gptDetailPage(view, workflowId, { signal }) {
  const title = h('h1', {}, 'GPT workflow');
  const head = h('div', {});
  const actions = h('div', { class: 'buttons' });
  const approvals = h('div', {});
  const graph = h('section', { 'aria-labelledby': 'graph-title' });
  const steps = h('section', { 'aria-labelledby': 'steps-title' });
  const connection = h('span', { class: 'muted live-status' });
  view.append(title, head, actions, approvals, graph, steps);
  const partials = new Map();
  let status = null;
  let usage = null;

  const render = () => {
    replace(title, status.name, ' ', badge(status.state));
    replace(
      head,
      status.description ? h('p', {}, status.description) : '',
      facts([
        ['ID', h('code', {}, status.workflow_id)],
        ['Runs', status.parallel ? 'parallel (a DAG)' : 'one step at a time'],
        ['Fail fast', status.fail_fast ? 'yes' : 'no'],
        ['Created', when(status.created_at)],
        ['Started', when(status.started_at)],
        ['Ended', when(status.ended_at)],
        ['Progress', status.progress],
        ['Usage and cost', usageText(status.usage || usage)],
        ['Job', jobLink(status.workflow_id, 'its job page')],
      ]),
    );
    const running = !FINISHED.has(status.state);
    replace(
      actions,
      ctx.can('run') && status.state === 'created' ? h('button', { type: 'button', onclick: execute }, 'Execute') : '',
      ctx.can('cancel') && running ? h('button', { type: 'button', class: 'danger', onclick: cancel }, 'Cancel') : '',
    );
    const waiting = status.steps.filter((s) => s.state === 'awaiting_approval' && s.job_id);
    const shown = [...approvals.querySelectorAll('[data-job-id]')].map((c) => c.dataset.jobId).join();
    if (shown !== waiting.map((s) => s.job_id).join()) replace(approvals, waiting.map((s) => decisionCard(s.job_id, s.approval, { onDecided: () => refresh(), extra: [['Step', s.step_id]] })));
    replace(graph, h('h2', { id: 'graph-title' }, 'Graph ', connection), drawDag(status));
    replace(steps, h('h2', { id: 'steps-title' }, 'Steps'), stepList(status, partials));
  };
  const refresh = async () => {
    status = (await api(`/api/gpt-workflows/${encodeURIComponent(workflowId)}`, { signal })).data;
    render();
  };
  const execute = async () => {
    try {
      await api(`/api/gpt-workflows/${encodeURIComponent(workflowId)}/execute?wait=0`, { method: 'POST', signal });
      ctx.notify('Executing.');
      await refresh();
    } catch (err) {
      ctx.notify(`${err.type}: ${err.message}`, 'error');
    }
  };
  const cancel = async () => {
    try {
      await api(`/api/gpt-workflows/${encodeURIComponent(workflowId)}/cancel`, { method: 'POST', signal });
      ctx.notify('Cancel requested.');
      await refresh();
    } catch (err) {
      ctx.notify(`${err.type}: ${err.message}`, 'error');
    }
  };
  await refresh();
  watchJob(`/jobs/${encodeURIComponent(workflowId)}/events`, {
    signal,
    refresh,
    pollMs: 700,
    isDone: () => FINISHED.has(status?.state),
    onStatus(text) {
      connection.textContent = { live: '(live)', polling: '(live, polling)', reconnecting: '(reconnecting…)', ended: '(ended)' }[text] || `(${text})`;
    },
    onEvent(event) {
      const data = event.data || {};
      if (event.type === 'output' && data.step_id) {
        const before = partials.get(data.step_id) || '';
        partials.set(data.step_id, (before + asText(data.text)).slice(-4000));
        const el = steps.querySelector(`li[data-step="${CSS.escape(data.step_id)}"] .partial`);
        if (el) el.textContent = partials.get(data.step_id);
        else if (status) render();
      } else if (event.type === 'step' && status && data.step_id) {
        const step = status.steps.find((s) => s.step_id === data.step_id);
        const state = { started: 'running' }[data.state] || data.state;
        if (step && state) {
          step.state = state;
          render();
        }
      } else if (event.type === 'usage' && data.total) {
        usage = data.total;
      }
    },
  });
}
