// One pending approval, as an approver must read it: the exact command, the host and user it runs as,
// why it waits, who asked, and how long is left; approve or reject with a reason. The decision is
// recorded by the gateway under the signed-in key's name (the body carries only a reason and a note).

import { api } from '../api.js';
import { ctx } from '../state.js';
import { badge, countdown, facts, h, jobLink, when } from '../dom.js';

const ticking = new Set();
setInterval(() => {
  for (const el of ticking) {
    if (!el.isConnected) ticking.delete(el);
    else el.textContent = countdown(el.dataset.expires);
  }
}, 1000);

function expiry(iso) {
  const el = h('span', { class: 'countdown', dataset: { expires: iso }, 'aria-label': `expires ${when(iso)}` }, countdown(iso));
  ticking.add(el);
  return el;
}

/** `request` is an ApprovalRequest; `onDecided(answer)` after a decision the gateway recorded. */
export function decisionCard(jobId, request, { onDecided = () => {}, extra = [], heading = 'h2' } = {}) {
  const id = `decide-${jobId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const card = h('article', { class: 'card approval', 'aria-labelledby': `${id}-title`, dataset: { jobId } });
  const title = request?.command ? 'Run this command?' : request?.message ? 'Approve this?' : 'Decide';
  card.append(h(heading, { id: `${id}-title` }, title, ' ', badge('awaiting_approval')));
  if (request?.command) {
    card.append(h('p', { class: 'label' }, 'Command'), h('pre', { class: 'command', tabindex: '0', 'aria-label': 'Command' }, request.command));
  }
  if (request?.message) card.append(h('p', { class: 'label' }, 'Question'), h('p', { class: 'message' }, request.message));
  card.append(
    facts([
      ['Host', request?.host],
      ['User', request?.user],
      ['Intent', request?.intent],
      ['Requested by', request?.requested_by],
      ['Requested at', when(request?.requested_at)],
      ['Expires in', request?.expires_at ? expiry(request.expires_at) : ''],
      ['Job', jobLink(jobId)],
      ...extra,
    ]),
  );
  if (request?.risks?.length) {
    card.append(h('p', { class: 'label' }, 'Why it waits for a human'), h('ul', { class: 'risks' }, request.risks.map((risk) => h('li', {}, risk))));
  }
  if (!request) card.append(h('p', { class: 'muted' }, 'No worker answered, so the request cannot be shown; it cannot be decided from here until one does.'));

  if (!ctx.can('decide')) {
    card.append(h('p', { class: 'muted role-note' }, `Your key's role (${ctx.me?.role}) cannot approve or reject; an approver must.`));
    return card;
  }
  if (!request) return card;
  const reason = h('textarea', { id: `${id}-reason`, name: 'reason', rows: '2', maxlength: '1000' });
  const status = h('p', { class: 'decision-status', role: 'status', 'aria-live': 'polite' });
  const buttons = [];
  const decide = async (verb) => {
    buttons.forEach((b) => (b.disabled = true));
    status.textContent = verb === 'approve' ? 'Approving…' : 'Rejecting…';
    try {
      const body = { reason: reason.value.trim() || undefined, fingerprint: request.fingerprint };
      const answer = await api(`/jobs/${encodeURIComponent(jobId)}/${verb}`, { method: 'POST', body });
      const approval = answer.data?.approval;
      status.textContent = `${approval?.decision ?? verb} by ${approval?.approver ?? ctx.me.name}`;
      card.dataset.decided = approval?.decision ?? verb;
      onDecided(answer.data);
    } catch (err) {
      status.textContent = `${err.type}: ${err.message}`;
      status.classList.add('field-error');
      buttons.forEach((b) => (b.disabled = false));
    }
  };
  const approve = h('button', { type: 'button', class: 'approve', onclick: () => decide('approve') }, 'Approve');
  const reject = h('button', { type: 'button', class: 'reject danger', onclick: () => decide('reject') }, 'Reject');
  buttons.push(approve, reject);
  card.append(
    h('div', { class: 'decide' }, h('label', { for: `${id}-reason` }, 'Reason (recorded with the decision)'), reason, h('div', { class: 'buttons' }, approve, reject), status),
  );
  return card;
}
