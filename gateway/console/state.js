// Who is signed in and what this gateway offers: shared by the shell and every page.

import { h, replace } from './dom.js';

/** What every page gets: who is signed in, what the gateway offers, and a signal aborted on leaving. */
export const ctx = {
  me: null,
  features: { search: false, schedules: false },
  config: null,
  can(action) {
    const role = this.me?.role;
    const allowed = {
      run: ['caller', 'admin'],
      cancel: ['caller', 'admin'],
      decide: ['approver', 'admin'],
      read: ['caller', 'approver', 'admin'],
    }[action];
    return Boolean(role && allowed?.includes(role));
  },
  notify(text, kind = 'info') {
    replace(document.getElementById('notice'), text ? h('p', { class: `notice-${kind}` }, text) : '');
  },
};
