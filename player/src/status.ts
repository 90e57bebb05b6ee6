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

export type StatusResult = { kind: 'ok'; status: PublicStatus } | { kind: 'missing' } | { kind: 'unreachable' };

export async function fetchStatus(playbackId: string): Promise<StatusResult> {
  try {
    const response = await fetch(`/api/v1/public/streams/${encodeURIComponent(playbackId)}`);
    if (response.status === 404) return { kind: 'missing' };
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
