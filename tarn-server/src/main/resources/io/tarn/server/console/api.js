// Tarn's HTTP API as the console uses it: the token of this browser tab, JSON calls, and event streams read with
// fetch (an EventSource cannot send the token).

const KEY = 'tarn.token';

export function token() {
  return sessionStorage.getItem(KEY);
}

export function setToken(value) {
  sessionStorage.setItem(KEY, value);
}

export function forgetToken() {
  sessionStorage.removeItem(KEY);
}

/** An answer of the API that is not 2xx: its status and Tarn's error name and message. */
export class ApiError extends Error {
  constructor(status, name, message) {
    super(message);
    this.status = status;
    this.name = name;
  }
}

let unauthorized = () => {};

/** What to do when the API says the token is not (or no longer) valid. */
export function onUnauthorized(handler) {
  unauthorized = handler;
}

export async function call(method, path, body) {
  const headers = { Authorization: 'Bearer ' + (token() || '') };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  const answer = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (answer.status === 204) {
    return null;
  }
  const text = await answer.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (e) {
    json = null;
  }
  if (!answer.ok) {
    const error = (json && json.error) || {};
    if (answer.status === 401) {
      unauthorized();
    }
    throw new ApiError(answer.status, error.name || 'HTTP_' + answer.status, error.message || text);
  }
  return json;
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body);
export const put = (path, body) => call('PUT', path, body);
export const del = (path) => call('DELETE', path);

/** A path segment: names are the user's text. */
export function seg(name) {
  return encodeURIComponent(name);
}

/**
 * Follows an event stream: calls onEvent(name, data) for each event (data parsed as JSON) until close() or the stream
 * ends; onEnd(error) then, error null when closed or ended by the server.
 */
export function follow(path, onEvent, onEnd = () => {}) {
  const abort = new AbortController();
  (async () => {
    try {
      const answer = await fetch(path, {
        headers: { Authorization: 'Bearer ' + (token() || ''), Accept: 'text/event-stream' },
        signal: abort.signal,
      });
      if (!answer.ok) {
        const text = await answer.text();
        let message = text;
        try {
          message = JSON.parse(text).error.message;
        } catch (e) {
          // not Tarn's error body: the text as it is
        }
        if (answer.status === 401) {
          unauthorized();
        }
        throw new ApiError(answer.status, 'HTTP_' + answer.status, message);
      }
      const reader = answer.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          break;
        }
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) {
              event = line.slice(6).trim();
            } else if (line.startsWith('data:')) {
              data.push(line.slice(5).replace(/^ /, ''));
            }
          }
          if (data.length > 0) {
            onEvent(event, JSON.parse(data.join('\n')));
          }
        }
      }
      onEnd(null);
    } catch (e) {
      onEnd(abort.signal.aborted ? null : e);
    }
  })();
  return { close: () => abort.abort() };
}
