/**
 * A server-sent events parser (the WHATWG event-stream format) as an async iterator: feed it the
 * bytes of a response body, get one {@link SseMessage} per dispatched event. Comments (keep-alive
 * lines starting with `:`) are skipped; `retry:` is reported on the next message.
 */

/** One event of an event stream. */
export interface SseMessage {
  /** The `event:` field; `message` when absent. */
  event: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
  /** The last `id:` seen on the stream so far (the spec's "last event ID"). */
  id: string | undefined;
  /** A reconnection delay the server asked for, in ms, when it sent one. */
  retry: number | undefined;
}

/**
 * Parses an event stream. Stops when the bytes end or `signal` aborts (then it throws the
 * signal's reason, and the caller should cancel the underlying body).
 */
export async function* parseEventStream(
  chunks: AsyncIterable<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<SseMessage, void, undefined> {
  const decoder = new TextDecoder('utf-8');
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let hasData = false;
  let lastId: string | undefined;
  let retry: number | undefined;

  // Returns the message to dispatch at a blank line, if any, and resets the event's fields.
  const dispatch = (): SseMessage | undefined => {
    const message = hasData ? { event: event || 'message', data: data.join('\n'), id: lastId, retry } : undefined;
    event = '';
    data = [];
    hasData = false;
    if (message) retry = undefined;
    return message;
  };

  const processLine = (line: string): SseMessage | undefined => {
    if (line === '') return dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        event = value;
        break;
      case 'data':
        data.push(value);
        hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) retry = Number(value);
        break;
    }
    return undefined;
  };

  signal?.throwIfAborted();
  for await (const chunk of chunks) {
    signal?.throwIfAborted();
    buffer += decoder.decode(chunk, { stream: true });
    // Lines end in CRLF, LF or CR; a CR at the very end may be the first half of a CRLF.
    let start = 0;
    for (let i = 0; i < buffer.length; i++) {
      const ch = buffer[i];
      if (ch !== '\n' && ch !== '\r') continue;
      if (ch === '\r' && i === buffer.length - 1) break;
      const line = buffer.slice(start, i);
      if (ch === '\r' && buffer[i + 1] === '\n') i++;
      start = i + 1;
      const message = processLine(line);
      if (message) yield message;
      signal?.throwIfAborted();
    }
    buffer = buffer.slice(start);
  }
  // An event not terminated by a blank line when the stream ends is discarded, per the spec.
}
