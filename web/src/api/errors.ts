// Errors from the server, sorted by what the page should say and offer.

export type ApiErrorKind =
  | 'unreachable' // no HTTP answer at all
  | 'expired' // the session id is unknown to the server (expired, closed, server restarted)
  | 'http' // an HTTP error status
  | 'graphql' // a GraphQL error in a 200 answer
  | 'protocol'; // an answer the page cannot read

export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    readonly status = 0,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const EXPIRED = /Cannot find session|might have expired|unknown session/i;

export function isExpiredMessage(message: string): boolean {
  return EXPIRED.test(message);
}

/**
 * The server's own words from an error body: GraphQL `errors[0].message`, the plain routes'
 * `{"error": ...}`, or the text itself; null when the body says nothing.
 */
export function serverMessage(body: string): string | null {
  const text = body.trim();
  if (!text) return null;
  try {
    const json = JSON.parse(text) as { errors?: { message?: unknown }[]; error?: unknown; message?: unknown };
    const first = Array.isArray(json.errors) ? json.errors[0]?.message : undefined;
    if (typeof first === 'string') return first;
    if (typeof json.error === 'string') return json.error;
    if (typeof json.message === 'string') return json.message;
  } catch {
    // not JSON: the text is the message
  }
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

/** An ApiError for a non-2xx response (reads its body). */
export async function errorFromResponse(res: Response, what: string): Promise<ApiError> {
  let body = '';
  try {
    body = await res.text();
  } catch {
    // the body is lost; the status still says something
  }
  const message = serverMessage(body) ?? `${what}: the server answered HTTP ${res.status} ${res.statusText}`.trim();
  const kind = isExpiredMessage(message) ? 'expired' : 'http';
  return new ApiError(kind, message, res.status);
}

/** fetch() that turns a network failure into ApiError('unreachable'); aborts pass through. */
export async function fetchOrExplain(url: string, init: RequestInit, what: string): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (e) {
    if (isAbort(e)) throw e;
    throw new ApiError('unreachable', `${what}: the sam2 server at ${new URL(url, location.href).origin} cannot be reached`);
  }
}

export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}

export function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
