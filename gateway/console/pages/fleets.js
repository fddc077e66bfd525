// Fleets: give one objective to every agent of a fleet and see each agent's answer as it arrives.

import { api, query } from '../api.js';
import { badge, facts, h, jobLink, pre, replace, usageText } from '../dom.js';
import { watchJob } from '../live.js';
import { ctx } from '../state.js';

const TERMINAL = new Set(['success', 'error', 'cancelled', 'timed_out', 'terminated']);
const AGENT_STATE = { started: 'running', succeeded: 'succeeded', failed: 'failed', cancelled: 'cancelled', skipped: 'skipped', not_run: 'not_run' };

function launchForm(fleets, params, signal) {
  const category = h('select', { id: 'fleet-category', name: 'category', required: true }, fleets.map((f) => h('option', { value: f.category, selected: params.get('category') === f.category }, `${f.category} (${(f.agents || []).length} agents)`)));
  const objective = h('textarea', { id: 'fleet-objective', name: 'objective', rows: '3', required: true, maxlength: '20000' });
  const synthesize = h('input', { id: 'fleet-synthesize', name: 'synthesize', autocomplete: 'off' });
  const error = h('p', { class: 'field-error', role: 'alert' });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'launch-title' },
    h('h2', { id: 'launch-title' }, 'Launch a fleet'),
    h('label', { for: 'fleet-category' }, 'Fleet'), category,
    h('label', { for: 'fleet-objective' }, 'Objective'), objective,
    h('label', { for: 'fleet-synthesize' }, 'Lead agent to merge the answers (optional)'), synthesize,
    error,
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Launch')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    try {
      const body = { objective: objective.value, synthesize: synthesize.value.trim() || undefined };
      const { data } = await api(`/api/gpt-fleets/${encodeURIComponent(category.value)}/orchestrate?wait=0`, { method: 'POST', body, signal });
      location.hash = `#/fleets${query({ run: data.workflow_id })}`;
    } catch (err) {
      if (err.name !== 'AbortError') error.textContent = `${err.field ? `${err.field}: ` : ''}${err.message}`;
    }
  }, { signal });
  return form;
}

function agentCard(outcome) {
  return h(
    'article',
    { class: `card agent state-${outcome.status}`, dataset: { agent: outcome.agent, state: outcome.status } },
    h('h3', {}, outcome.agent, ' ', badge(outcome.status)),
    outcome.output ? pre(outcome.output) : '',
    outcome.error ? pre(`${outcome.error_type ? `${outcome.error_type}: ` : ''}${outcome.error}`, { class: 'value error' }) : '',
    outcome.usage ? h('p', { class: 'muted' }, usageText(outcome.usage)) : '',
  );
}

async function watchRun(view, runId, signal) {
  const head = h('div', {});
  const agents = h('div', { class: 'agents', 'aria-live': 'polite' });
  const connection = h('span', { class: 'muted live-status' });
  view.append(h('h2', {}, 'Run ', connection), head, agents);
  const byAgent = new Map();
  let job = null;
  const draw = () => replace(agents, [...byAgent.values()].map(agentCard));
  const refresh = async () => {
    job = (await api(`/jobs/${encodeURIComponent(runId)}`, { signal })).data;
    const result = job.result && typeof job.result === 'object' ? job.result : null;
    replace(head, facts([['Job', jobLink(runId)], ['Status', badge(job.status)], ['Objective', result?.objective], ['Usage and cost', usageText(job.usage || result?.usage)]]));
    for (const outcome of result?.agents || []) byAgent.set(outcome.agent, outcome);
    if (result?.synthesis) byAgent.set(`${result.synthesis.agent} (synthesis)`, { ...result.synthesis, agent: `${result.synthesis.agent} (synthesis)` });
    draw();
  };
  await refresh();
  watchJob(`/jobs/${encodeURIComponent(runId)}/events`, {
    signal,
    refresh,
    isDone: () => TERMINAL.has(job?.status),
    onStatus(text) {
      connection.textContent = { live: '(live)', polling: '(polling)', reconnecting: '(reconnecting…)', ended: '(ended)' }[text] || `(${text})`;
    },
    onEvent(event) {
      const data = event.data || {};
      if (event.type === 'snapshot' && data.progress?.agents) {
        for (const outcome of data.progress.agents) byAgent.set(outcome.agent, outcome);
        draw();
      } else if (event.type === 'step' && data.agent) {
        const known = byAgent.get(data.agent) || { agent: data.agent };
        byAgent.set(data.agent, { ...known, status: AGENT_STATE[data.state] || data.state, output: data.output_excerpt ?? known.output, error: data.error ?? known.error });
        draw();
      } else if (event.type === 'output' && data.agent) {
        const known = byAgent.get(data.agent) || { agent: data.agent, status: 'running' };
        byAgent.set(data.agent, { ...known, output: `${known.output || ''}${data.text || ''}` });
        draw();
      }
    },
  });
}

export async function fleetsPage(view, params, { signal }) {
  view.append(h('h1', {}, 'Fleets'));
  const fleets = (await api('/api/gpt-fleets', { signal })).data.fleets || [];
  if (ctx.can('run')) view.append(launchForm(fleets, params, signal));
  const runId = params.get('run');
  if (runId) await watchRun(view, runId, signal);
  view.append(
    h('h2', {}, 'Fleets and their agents'),
    h('ul', { class: 'fleets' }, fleets.map((f) => h('li', {}, h('strong', {}, f.category), ': ', (f.agents || []).map((a) => (typeof a === 'string' ? a : a.name)).join(', ')))),
  );
}
