// Server-Sent Events over fetch(): EventSource cannot send an Authorization header, and the key must never
// be put in a URL. This reads the stream with a ReadableStream and parses it as the HTML standard's
// event-stream format says (fields data/event/id/retry, comment lines, CR/LF/CRLF line ends), and
// reconnects after a drop with `Last-Event-ID`, so the gateway resumes exactly after the last event.

import { authHeaders } from './api.js';

export const UNSUPPORTED = 'unsupported';

/** Incremental parser: feed() text chunks, get complete events back. */
export class EventStreamParser {
  constructor() {
    this.buffer = '';
    this.reset();
    this.lastEventId = '';
    this.retry = null;
  }

  reset() {
    this.data = [];
    this.event = '';
  }

  feed(chunk) {
    this.buffer += chunk;
    const events = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      if (match[0] === '\r' && match.index === this.buffer.length - 1) break; // maybe a CRLF split across chunks
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  line(line) {
    if (line === '') {
      if (!this.data.length) {
        this.reset();
        return null;
      }
      const event = { type: this.event || 'message', data: this.data.join('\n'), id: this.lastEventId };
      this.reset();
      return event;
    }
    if (line.startsWith(':')) return null; // a comment: the keep-alive
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return null;
  }
}

/**
 * Follow a job's event stream. `onEvent({type, data (parsed JSON), id})` for each event; `onStatus(text)`
 * as the connection changes ('live', 'reconnecting', 'ended', UNSUPPORTED when the gateway has no such
 * stream). Returns {close()}. Stops after `done`, on 204 (nothing more), and on 4xx.
 */
export function follow(path, { onEvent, onStatus = () => {}, signal }) {
  const controller = new AbortController();
  if (signal) signal.addEventListener('abort', () => controller.abort(), { once: true });
  const parser = new EventStreamParser();
  let finished = false;
  let failures = 0;

  async function connect() {
    const headers = authHeaders({ Accept: 'text/event-stream' });
    if (parser.lastEventId) headers['Last-Event-ID'] = parser.lastEventId;
    const resp = await fetch(path, { headers, signal: controller.signal, cache: 'no-store', credentials: 'omit' });
    if (resp.status === 204) return 'ended';
    if (resp.status === 404 || resp.status === 405) return UNSUPPORTED;
    if (resp.status >= 400 && resp.status < 500 && resp.status !== 429) return `refused (${resp.status})`;
    if (!resp.ok || !resp.body) throw new Error(`stream answered ${resp.status}`);
    onStatus('live');
    failures = 0;
    const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return null; // dropped: reconnect with Last-Event-ID
      for (const event of parser.feed(value)) {
        let data = event.data;
        try {
          data = JSON.parse(event.data);
        } catch {
          /* not JSON: hand over the text */
        }
        onEvent({ type: event.type, data, id: event.id });
        if (event.type === 'done') {
          controller.abort();
          return 'ended';
        }
      }
    }
  }

  (async () => {
    while (!finished && !controller.signal.aborted) {
      let outcome = null;
      try {
        outcome = await connect();
      } catch (err) {
        if (controller.signal.aborted) break;
        failures += 1;
      }
      if (outcome) {
        finished = true;
        onStatus(outcome);
        break;
      }
      if (controller.signal.aborted) break;
      onStatus('reconnecting');
      const wait = Math.min(parser.retry ?? 1000, 1000) * Math.min(2 ** failures, 16);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();

  return {
    close() {
      finished = true;
      controller.abort();
    },
  };
}
