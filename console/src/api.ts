// The console speaks only the public REST API (/api/v1), with the token the operator signed in
// with. The token is kept for this browser tab only (sessionStorage) and never put in a URL.

const TOKEN_KEY = 'live-origin-console-token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Session {
  token: string;
  name: string;
  scope: 'admin' | 'read';
}

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

export async function api<T = any>(token: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    cache: 'no-store',
  });
  if (response.status === 204) return undefined as T;
  const json = await response.json().catch(() => undefined);
  if (!response.ok) {
    const error = json?.error;
    const details = Array.isArray(error?.details) ? ` (${error.details.map((d: { field: string; message: string }) => `${d.field}: ${d.message}`).join('; ')})` : '';
    throw new ApiError(response.status, error?.code ?? 'error', `${error?.message ?? `HTTP ${response.status}`}${details}`);
  }
  return json as T;
}

/** Who the token is: its name and scope, or an ApiError (401 for a wrong token). */
export async function signIn(token: string): Promise<Session> {
  const me = await api<{ name: string; scope: 'admin' | 'read' }>(token, 'GET', '/token');
  return { token, name: me.name, scope: me.scope };
}
