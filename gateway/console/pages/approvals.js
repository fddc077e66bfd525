// The approvals inbox: every pending approval of this key's tenant (GET /approvals), soonest expiry first.
// Read again every two seconds, so a decision made elsewhere (curl, the CLI, another tab) takes the card
// away; a card decided here stays, saying what was decided and how the job ended.

import { api } from '../api.js';
import { badge, h, jobLink, replace } from '../dom.js';
import { every } from '../live.js';
import { ctx } from '../state.js';
import { decisionCard } from './decision.js';

const POLL_MS = 2000;

export async function approvalsPage(view, { signal }) {
  view.append(h('h1', {}, 'Approvals'));
  if (!ctx.can('decide')) view.append(h('p', { class: 'muted role-note' }, `Your key's role (${ctx.me.role}) can see what waits, but only an approver or admin key can decide.`));
  const status = h('p', { class: 'muted live-status', role: 'status', 'aria-live': 'polite' });
  const list = h('div', { class: 'inbox', 'aria-label': 'Pending approvals' });
  const decided = h('div', { class: 'inbox decided', 'aria-label': 'Decided here' });
  const error = h('p', { class: 'field-error', role: 'alert' });
  view.append(status, error, list, h('h2', { class: 'decided-title', hidden: true }, 'Decided here'), decided);
  const cards = new Map(); // job_id -> card

  const outcome = (card, jobId, answer) => {
    cards.delete(jobId);
    card.querySelector('.decide')?.remove();
    const approval = answer?.approval;
    card.append(
      h('p', { class: 'outcome' }, `${approval?.decision ?? 'decided'} by ${approval?.approver ?? ctx.me.name}. `, 'Job ', answer?.status ? badge(answer.status === 'accepted' ? 'running' : answer.status) : '', ' ', jobLink(jobId, 'open the job')),
    );
    decided.prepend(card);
    view.querySelector('.decided-title').hidden = false;
  };

  const load = async () => {
    let items;
    try {
      items = (await api('/approvals', { signal })).data.approvals;
      error.textContent = '';
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      error.textContent = `${err.type}: ${err.message}`;
      return;
    }
    const pending = new Set(items.map((i) => i.job_id));
    const gone = [];
    for (const [jobId, card] of cards) {
      if (!pending.has(jobId) && !card.dataset.decided) {
        card.remove();
        cards.delete(jobId);
        gone.push(jobId);
      }
    }
    for (const item of items) {
      if (cards.has(item.job_id)) continue;
      const extra = [];
      if (item.workflow_id) extra.push(['Part of', item.step_id ? `${item.workflow_id}, step ${item.step_id}` : item.workflow_id]);
      const card = decisionCard(item.job_id, item.approval_request, { extra, onDecided: (answer) => outcome(card, item.job_id, answer) });
      cards.set(item.job_id, card);
      list.append(card);
    }
    const order = items.map((i) => cards.get(i.job_id)).filter(Boolean);
    if (order.some((card, i) => list.children[i] !== card)) list.append(...order);
    if (!list.children.length) replace(list, h('p', { class: 'muted empty' }, 'Nothing waits for a decision.'));
    else list.querySelector('.empty')?.remove();
    const n = cards.size;
    status.textContent = `${n} pending · updated ${new Date().toLocaleTimeString()}` + (gone.length ? ` · decided elsewhere: ${gone.join(', ')}` : '');
  };
  every(POLL_MS, load, signal);
}
