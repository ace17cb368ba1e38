// Calls to kumo's REST API, made with the session cookie. Every call that
// may change something carries the session's CSRF token, which the page
// holds in a <meta> tag.

const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content ?? '';

// APIError is a failed call, with the API's error code and request id.
export class APIError extends Error {
  constructor(status, code, message, requestID) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestID = requestID;
  }
}

// signInAgain sends the browser to sign in, and back here after.
export function signInAgain() {
  location.assign('/signin?next=' + encodeURIComponent(location.pathname + location.search));
}

// api calls METHOD /api/v1PATH. body is sent as JSON, or as it is when it
// is a Blob (an uploaded file). It answers the decoded JSON, or null.
export async function api(method, path, body) {
  const init = { method, headers: {}, credentials: 'same-origin' };
  if (method !== 'GET' && method !== 'HEAD') init.headers['X-CSRF-Token'] = csrfToken;
  if (body instanceof Blob) {
    init.body = body;
    init.headers['Content-Type'] = 'application/octet-stream';
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  let resp;
  try {
    resp = await fetch('/api/v1' + path, init);
  } catch (e) {
    throw new APIError(0, 'NetworkError', `kumod did not answer (${e.message}).`, '');
  }
  if (resp.status === 401) signInAgain();
  if (!resp.ok) {
    let doc = null;
    try { doc = await resp.json(); } catch { /* not the API's error document */ }
    const e = doc?.error ?? {};
    throw new APIError(resp.status, e.code || `HTTP${resp.status}`, e.message || resp.statusText, e.request_id || '');
  }
  return resp.status === 204 ? null : resp.json();
}
