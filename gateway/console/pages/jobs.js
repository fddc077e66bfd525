// Jobs: search (GET /jobs: intent, status, requester, time), new and changed jobs appearing live; and one
// job's page: summary, inputs, result or error, a live timeline, the approval block, usage, and its run
// in the Temporal Web UI.

import { api, query } from '../api.js';
import { badge, duration, facts, h, jobLink, pre, replace, usageText, when } from '../dom.js';
import { every, watchJob } from '../live.js';
import { ctx } from '../state.js';
import { decisionCard } from './decision.js';

const STATUSES = ['running', 'awaiting_approval', 'success', 'error', 'rejected', 'expired', 'cancelled', 'timed_out', 'terminated'];
const FILTERS = ['intent', 'status', 'requested_by', 'since', 'until'];
const TERMINAL = new Set(['success', 'error', 'rejected', 'expired', 'cancelled', 'timed_out', 'terminated']);

function openById(signal) {
  const input = h('input', { id: 'open-job', name: 'job_id', autocomplete: 'off', spellcheck: 'false', placeholder: 'orch-…' });
  const form = h('form', { class: 'inline', 'aria-label': 'Open a job by its ID' }, h('label', { for: 'open-job' }, 'Open a job by ID'), input, h('button', { type: 'submit', class: 'secondary' }, 'Open'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (input.value.trim()) location.hash = `#/jobs/${encodeURIComponent(input.value.trim())}`;
  }, { signal });
  return form;
}

function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function filterForm(params, intents, signal) {
  const field = (name, label, control) => h('div', { class: 'field' }, h('label', { for: `f-${name}` }, label), control);
  const intent = h('input', { id: 'f-intent', name: 'intent', list: 'intent-names', value: params.get('intent') || '', autocomplete: 'off' });
  const datalist = h('datalist', { id: 'intent-names' }, intents.map((name) => h('option', { value: name })));
  const status = h('select', { id: 'f-status', name: 'status' }, h('option', { value: '' }, 'any'), STATUSES.map((s) => h('option', { value: s, selected: params.get('status') === s }, s.replaceAll('_', ' '))));
  const requester = h('input', { id: 'f-requested_by', name: 'requested_by', value: params.get('requested_by') || '', autocomplete: 'off' });
  const since = h('input', { id: 'f-since', name: 'since', type: 'datetime-local', value: toLocalInput(params.get('since')) });
  const until = h('input', { id: 'f-until', name: 'until', type: 'datetime-local', value: toLocalInput(params.get('until')) });
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter jobs' },
    field('intent', 'Intent', intent), datalist,
    field('status', 'Status', status),
    field('requested_by', 'Requested by', requester),
    field('since', 'Since', since),
    field('until', 'Until', until),
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Search'), h('a', { href: '#/jobs', class: 'button secondary' }, 'Clear')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = {
      intent: intent.value.trim(),
      status: status.value,
      requested_by: requester.value.trim(),
      since: since.value ? new Date(since.value).toISOString() : '',
      until: until.value ? new Date(until.value).toISOString() : '',
    };
    location.hash = `#/jobs${query(values)}`;
  }, { signal });
  return form;
}

function jobRow(job) {
  return h(
    'tr',
    { dataset: { jobId: job.job_id, status: job.status } },
    h('td', {}, badge(job.status)),
    h('td', { class: 'summary' }, jobLink(job.job_id, job.summary || job.job_id)),
    h('td', {}, job.intent || job.kind || ''),
    h('td', {}, job.requested_by || ''),
    h('td', {}, when(job.started_at)),
    h('td', {}, duration(job.duration_ms)),
  );
}

export async function jobsPage(view, params, { signal }) {
  view.append(h('h1', {}, 'Jobs'));
  if (!ctx.features.search) {
    view.append(
      h('p', { class: 'muted' }, 'This gateway has no job search (GET /jobs). Open a job by its ID, or see GPT workflows.'),
      openById(signal),
    );
    return;
  }
  const intents = await api('/intents', { signal }).then((r) => (r.data?.intents || []).map((i) => i.name)).catch(() => []);
  view.append(filterForm(params, intents, signal), openById(signal));
  const filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f)]));
  const error = h('p', { class: 'field-error', role: 'alert' });
  const body = h('tbody', {});
  const live = h('p', { class: 'muted live-status', 'aria-live': 'polite' }, 'Live: new and changed jobs appear as they happen.');
  const table = h(
    'table',
    { class: 'jobs' },
    h('caption', { class: 'sr-only' }, 'Jobs, newest first'),
    h('thead', {}, h('tr', {}, ['Status', 'Summary', 'Intent', 'Requested by', 'Started', 'Took'].map((c) => h('th', { scope: 'col' }, c)))),
    body,
  );
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Older jobs');
  view.append(error, live, h('div', { class: 'table-wrap' }, table), more);

  const seen = new Map(); // job_id -> status, to mark new and changed rows
  let token = null;
  let first = true;
  const show = (jobs, { append }) => {
    const rows = jobs.map((job) => {
      const row = jobRow(job);
      const before = seen.get(job.job_id);
      if (!first && before !== job.status) row.classList.add(before === undefined ? 'fresh' : 'changed');
      seen.set(job.job_id, job.status);
      return row;
    });
    if (append) {
      rows.forEach((row) => row.setAttribute('data-older', ''));
      body.append(...rows);
    } else {
      const ids = new Set(jobs.map((j) => j.job_id));
      const older = [...body.querySelectorAll('tr[data-older]')].filter((tr) => !ids.has(tr.dataset.jobId));
      replace(body, rows, older);
    }
    if (!body.children.length) replace(body, h('tr', {}, h('td', { colspan: '6', class: 'muted' }, 'No jobs match.')));
  };
  const load = async () => {
    try {
      const { data } = await api(`/jobs${query({ ...filters, limit: 50 })}`, { signal });
      error.textContent = '';
      show(data.jobs, { append: false });
      if (first) {
        token = data.next_page_token;
        more.hidden = !token;
      }
      first = false;
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      error.textContent = `${err.field ? `${err.field}: ` : ''}${err.message}`;
    }
  };
  more.addEventListener('click', async () => {
    const { data } = await api(`/jobs${query({ ...filters, limit: 50, page_token: token })}`, { signal });
    show(data.jobs, { append: true });
    token = data.next_page_token;
    more.hidden = !token;
  }, { signal });
  every(3000, load, signal);
}

function temporalLink(jobId) {
  const config = ctx.config;
  if (!config) return null;
  let base = config.temporal_ui_url;
  if (!base) base = `${location.protocol}//${location.hostname}:${config.temporal_ui_port}`;
  let url;
  try {
    url = new URL(`namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(jobId)}`, base.endsWith('/') ? base : `${base}/`);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  return h('a', { href: url.href, rel: 'noopener noreferrer', target: '_blank', class: 'external' }, 'Open in the Temporal Web UI');
}

function timelineItem(event) {
  const data = event.data && typeof event.data === 'object' ? event.data : {};
  const label = {
    snapshot: 'Watching',
    step: `Step ${data.step_id ?? ''} ${data.state ?? ''}`,
    approval: `Approval ${data.state ?? ''}`,
    usage: 'Usage',
    output: `Output of ${data.step_id ?? ''}`,
    done: 'Finished',
    status: `Status: ${data.status ?? ''}`,
  }[event.type] || event.type;
  const detail =
    data.error || data.output_excerpt || (event.type === 'usage' ? usageText(data.total || data.step) : '') ||
    (event.type === 'approval' && data.decision ? `${data.decision.decision} by ${data.decision.approver}` : '') ||
    (event.type === 'done' ? data.status : '');
  return h('li', { dataset: { type: event.type } }, h('span', { class: 'at' }, when(data.at) || new Date().toLocaleTimeString()), ' ', h('strong', {}, label.trim()), detail ? h('span', { class: 'detail' }, ` ${detail}`) : '');
}

export async function jobDetailPage(view, jobId, { signal }) {
  const title = h('h1', {}, 'Job');
  const head = h('div', { class: 'job-head' });
  const decision = h('div', { class: 'decision-slot' });
  const outcome = h('section', { 'aria-labelledby': 'outcome-title' });
  const timeline = h('ol', { class: 'timeline', 'aria-live': 'polite' });
  const connection = h('span', { class: 'muted live-status' });
  const actions = h('div', { class: 'buttons' });
  view.append(title, head, actions, decision, outcome, h('section', { 'aria-labelledby': 'timeline-title' }, h('h2', { id: 'timeline-title' }, 'Timeline ', connection), timeline));

  let job = null;
  let decidingShown = null;
  const render = (next) => {
    const changed = job?.status !== next.status;
    job = next;
    replace(title, next.summary || next.intent || 'Job', ' ', badge(next.status));
    replace(
      head,
      facts([
        ['Job ID', h('code', {}, next.job_id)],
        ['Intent', next.intent],
        ['Mode', next.mode],
        ['Requested by', next.requested_by],
        ['Tenant', next.tenant],
        ['Started', when(next.started_at)],
        ['Ended', when(next.closed_at)],
        ['Took', duration(next.duration_ms)],
        ['Usage', usageText(next.usage)],
        ['Temporal', temporalLink(next.job_id)],
      ]),
    );
    if (next.approval_request && next.status === 'awaiting_approval') {
      if (decidingShown !== next.approval_request.fingerprint) {
        decidingShown = next.approval_request.fingerprint;
        replace(decision, decisionCard(next.job_id, next.approval_request, { onDecided: () => refresh() }));
      }
    } else {
      decidingShown = null;
      const steps = next.steps_awaiting_approval || [];
      replace(decision, steps.map((s) => decisionCard(s.job_id, s.approval, { onDecided: () => refresh(), extra: [['Step', s.step_id]] })));
    }
    replace(
      outcome,
      h('h2', { id: 'outcome-title' }, 'Inputs and outcome'),
      h('h3', {}, 'Inputs (secrets redacted)'),
      next.inputs !== undefined && next.inputs !== null ? pre(next.inputs, { 'aria-label': 'Inputs' }) : h('p', { class: 'muted' }, 'Not recorded for this job.'),
      next.approval ? [h('h3', {}, 'Decision'), facts([['Decision', next.approval.decision], ['Approver', next.approval.approver], ['Reason', next.approval.reason], ['Note', next.approval.note], ['At', when(next.approval.decided_at)]])] : '',
      next.error ? [h('h3', {}, 'Error'), h('p', { class: 'error-type' }, next.error.type), pre(next.error.message, { class: 'value error' })] : '',
      next.result !== undefined && next.result !== null ? [h('h3', {}, 'Result'), pre(next.result, { 'aria-label': 'Result' })] : '',
    );
    replace(
      actions,
      ctx.can('cancel') && !TERMINAL.has(next.status)
        ? h('button', { type: 'button', class: 'danger', onclick: cancel }, 'Cancel job')
        : '',
      next.intent === 'gpt.workflow' || next.job_id.startsWith('gptwf-') ? h('a', { class: 'button secondary', href: `#/gpt/${encodeURIComponent(next.job_id.startsWith('gptwf-') ? next.job_id : `${next.job_id}.run`)}` }, 'Show the DAG') : '',
    );
    if (changed && !streaming) timeline.append(timelineItem({ type: 'status', data: { status: next.status } }));
  };
  const refresh = async () => render((await api(`/jobs/${encodeURIComponent(jobId)}`, { signal })).data);
  const cancel = async () => {
    try {
      await api(`/jobs/${encodeURIComponent(jobId)}/cancel`, { method: 'POST', signal });
      ctx.notify('Cancel requested.');
      await refresh();
    } catch (err) {
      ctx.notify(`${err.type}: ${err.message}`, 'error');
    }
  };
  let streaming = false;
  await refresh();
  watchJob(`/jobs/${encodeURIComponent(jobId)}/events`, {
    signal,
    refresh,
    isDone: () => TERMINAL.has(job?.status),
    onStatus(status) {
      streaming = status === 'live' || streaming;
      connection.textContent = { live: '(live)', polling: '(polling)', reconnecting: '(reconnecting…)', ended: '(ended)' }[status] || `(${status})`;
    },
    onEvent(event) {
      if (event.type === 'output') return;
      timeline.append(timelineItem(event));
    },
  });
}
