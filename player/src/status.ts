/** GET /api/v1/public/streams/:playbackId (src/http/stream-view.ts, StreamView.public). */
export interface PublicStatus {
  playbackId: string;
  name: string;
  status: 'idle' | 'live';
  viewers: number;
  hlsUrl: string;
  playerUrl: string;
  posterUrl?: string;
}

/** A private stream refused this page's token: `code` says why (token_expired, token_required…). */
export type StatusResult = { kind: 'ok'; status: PublicStatus } | { kind: 'missing' } | { kind: 'denied'; code: string } | { kind: 'unreachable' };

/** The page's `token` parameter: a private stream's invitation, passed on to every request. */
export function pageToken(): string | null {
  return new URLSearchParams(location.search).get('token');
}

export async function fetchStatus(playbackId: string): Promise<StatusResult> {
  try {
    const token = pageToken();
    const response = await fetch(`/api/v1/public/streams/${encodeURIComponent(playbackId)}${token ? `?token=${encodeURIComponent(token)}` : ''}`);
    if (response.status === 404) return { kind: 'missing' };
    if (response.status === 403) return { kind: 'denied', code: ((await response.json()) as { error?: { code?: string } }).error?.code ?? 'token_required' };
    if (!response.ok) return { kind: 'unreachable' };
    return { kind: 'ok', status: (await response.json()) as PublicStatus };
  } catch {
    return { kind: 'unreachable' };
  }
}

/** The status the page was rendered with, so that playback need not wait for a first request. */
export function initialStatus(): PublicStatus | undefined {
  try {
    const text = document.getElementById('initial-status')?.textContent;
    return text ? (JSON.parse(text) as PublicStatus) : undefined;
  } catch {
    return undefined;
  }
}
