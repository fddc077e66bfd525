// Keeping a page current: a job's event stream when the gateway has one, polling otherwise.

import { follow, UNSUPPORTED } from './sse.js';

/** Call `fn` now and then every `ms` until the page is left; errors are shown by `fn` itself. */
export function every(ms, fn, signal) {
  let timer = null;
  const tick = async () => {
    if (signal.aborted) return;
    try {
      await fn();
    } catch (err) {
      if (err?.name === 'AbortError') return;
    }
    if (!signal.aborted) timer = setTimeout(tick, ms);
  };
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  tick();
}

/**
 * Watch a job: `onEvent` for every SSE event, `refresh()` to re-read the job's document (debounced, after
 * events), `onStatus(label)` for the connection state. Without a stream, `refresh` runs every `pollMs`
 * until `isDone()` says the job ended.
 */
export function watchJob(path, { onEvent = () => {}, refresh, onStatus = () => {}, isDone = () => false, signal, pollMs = 1000 }) {
  let pending = null;
  const soon = () => {
    if (pending) return;
    pending = setTimeout(async () => {
      pending = null;
      if (!signal.aborted) await refresh().catch(() => {});
    }, 150);
  };
  signal.addEventListener('abort', () => clearTimeout(pending), { once: true });
  follow(path, {
    signal,
    onEvent(event) {
      onEvent(event);
      if (event.type !== 'output') soon();
    },
    onStatus(status) {
      if (status === UNSUPPORTED) {
        onStatus('polling');
        every(pollMs, async () => {
          if (!isDone()) await refresh();
        }, signal);
        return;
      }
      onStatus(status);
      if (status === 'ended') soon();
    },
  });
}
