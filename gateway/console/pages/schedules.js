// Schedules: shown only when the gateway has GET /schedules (a 404 hides the page). Lists each schedule,
// and pauses, resumes or triggers it. Reads the list leniently, since its exact shape is the schedules
// feature's to define: an array, or {schedules: [...]}, each with an id and whatever else it says.

import { api } from '../api.js';
import { asText, badge, h, replace, when } from '../dom.js';
import { every } from '../live.js';
import { ctx } from '../state.js';

function idOf(s) {
  return s.schedule_id ?? s.id ?? s.name;
}

export async function schedulesPage(view, { signal }) {
  view.append(h('h1', {}, 'Schedules'));
  const error = h('p', { class: 'field-error', role: 'alert' });
  const body = h('tbody', {});
  view.append(error, h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, ['State', 'Schedule', 'What', 'Next run', ''].map((c) => h('th', { scope: 'col' }, c)))), body)));
  const act = async (id, verb) => {
    try {
      await api(`/schedules/${encodeURIComponent(id)}/${verb}`, { method: 'POST', body: {}, signal });
      ctx.notify(`${verb}: ${id}`);
      await load();
    } catch (err) {
      ctx.notify(`${err.type}: ${err.message}`, 'error');
    }
  };
  const load = async () => {
    const { data } = await api('/schedules', { signal });
    const items = Array.isArray(data) ? data : data?.schedules || [];
    error.textContent = '';
    replace(
      body,
      items.length
        ? items.map((s) => {
            const id = String(idOf(s));
            const paused = Boolean(s.paused ?? s.state === 'paused');
            const next = Array.isArray(s.next_run_times) ? s.next_run_times[0] : s.next_run;
            return h(
              'tr',
              { dataset: { schedule: id } },
              h('td', {}, badge(paused ? 'paused' : 'active')),
              h('td', { class: 'mono' }, id),
              h('td', {}, `${s.intent ?? ''} ${s.cron ? `cron ${s.cron}` : s.every ? `every ${s.every}` : ''}`, s.note ? h('span', { class: 'muted' }, ` ${asText(s.note)}`) : ''),
              h('td', {}, when(next)),
              h(
                'td',
                { class: 'buttons' },
                ctx.can('run') || ctx.me.role === 'admin'
                  ? [
                      h('button', { type: 'button', class: 'secondary', onclick: () => act(id, paused ? 'unpause' : 'pause') }, paused ? 'Resume' : 'Pause'),
                      h('button', { type: 'button', class: 'secondary', onclick: () => act(id, 'trigger') }, 'Run now'),
                    ]
                  : '',
              ),
            );
          })
        : h('tr', {}, h('td', { colspan: '5', class: 'muted' }, 'No schedules.')),
    );
  };
  every(5000, () => load().catch((err) => {
    if (err.name !== 'AbortError') error.textContent = `${err.type}: ${err.message}`;
  }), signal);
}
