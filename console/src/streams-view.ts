import { api, type Session } from './api';
import { duration, facts, h } from './dom';

/** A stream as GET /api/v1/streams/:id answers (the fields the console shows). */
export interface Stream {
  id: string;
  name: string;
  playbackId: string;
  status: 'idle' | 'live';
  enabled: boolean;
  profile: string;
  record: boolean;
  reconnectWindowSeconds: number | null;
  latencyMode: 'low' | 'standard';
  playback: 'public' | 'signed';
  ingestUrl: string;
  ingestUrls: string[];
  playerUrl: string;
  liveSession?: LiveSession | null;
}

export interface LiveSession {
  id: string;
  node: string;
  state: string;
  startedAt: string;
  viewers: number;
  warnings: string[];
  ingest: { video?: { codec: string; width: number; height: number; frameRate?: number }; audio?: { codec: string }; bitrateKbps?: number; keyframeIntervalSeconds?: number };
  transcoder?: { speed?: number };
}

export function statusBadge(stream: Stream): HTMLElement {
  if (!stream.enabled) return h('span', { class: 'status disabled' }, 'DISABLED');
  return stream.status === 'live' ? h('span', { class: 'status live' }, 'LIVE') : h('span', { class: 'status' }, 'idle');
}

/** What the operator wants to see of a live session at a glance. */
export function liveFacts(live: LiveSession | null | undefined): HTMLElement {
  if (!live) return facts([['Session', 'not live here']]);
  const video = live.ingest.video;
  return facts([
    ['Uptime', duration(live.startedAt)],
    ['Viewers', String(live.viewers)],
    [
      'Ingest',
      video
        ? `${video.codec.toUpperCase()} ${video.width}×${video.height}${video.frameRate ? ` @ ${Math.round(video.frameRate * 100) / 100} fps` : ''}${live.ingest.audio ? ` + ${live.ingest.audio.codec.toUpperCase()}` : ''}`
        : live.ingest.audio
          ? `audio only (${live.ingest.audio.codec.toUpperCase()})`
          : '–',
    ],
    ['Bitrate', live.ingest.bitrateKbps !== undefined ? `${Math.round(live.ingest.bitrateKbps)} kbit/s` : undefined],
    ['Keyframes', live.ingest.keyframeIntervalSeconds !== undefined ? `every ${live.ingest.keyframeIntervalSeconds} s` : undefined],
    ['Transcoder', live.transcoder?.speed !== undefined ? `${live.transcoder.speed}× real time` : undefined],
    ['Node', live.node],
    ['Warnings', live.warnings.length ? h('span', { class: 'warning' }, live.warnings.join(', ')) : undefined],
  ]);
}

/** Every stream, live ones first, each with its numbers; follows them while open. */
export async function streamsView(session: Session, main: HTMLElement): Promise<() => Promise<void>> {
  const list = h('ul', { class: 'streams', 'data-role': 'streams' });
  main.replaceChildren(
    h('h1', {}, 'Streams'),
    session.scope === 'admin'
      ? h('div', { class: 'actions' }, h('a', { class: 'button primary', href: '#/new' }, 'New stream'))
      : h('p', { class: 'muted' }, 'Read-only: this token can look, not change.'),
    list,
  );
  const refresh = async () => {
    const page = await api<{ data: Stream[] }>(session.token, 'GET', '/streams?limit=100');
    const streams = [...page.data].sort((a, b) => Number(b.status === 'live') - Number(a.status === 'live'));
    const detailed = await Promise.all(
      streams.map((stream) => (stream.status === 'live' ? api<Stream>(session.token, 'GET', `/streams/${stream.id}`).catch(() => stream) : Promise.resolve(stream))),
    );
    list.replaceChildren(
      ...detailed.map((stream) =>
        h(
          'li',
          { class: 'stream-card', 'data-stream': stream.id, 'data-status': stream.status },
          stream.status === 'live' && stream.playback === 'public'
            ? h('img', { class: 'thumb', alt: '', src: `/hls/${stream.playbackId}/poster.jpg?t=${Math.floor(Date.now() / 10_000)}` })
            : h('div', { class: 'thumb' }),
          h('a', { class: 'title', href: `#/streams/${stream.id}` }, stream.name, ' ', statusBadge(stream)),
          stream.status === 'live'
            ? liveFacts(stream.liveSession)
            : facts([
                ['Profile', stream.profile],
                ['Playback', stream.playback],
              ]),
        ),
      ),
    );
    if (detailed.length === 0) list.replaceChildren(h('li', { class: 'muted' }, 'No streams yet.'));
  };
  await refresh();
  return refresh;
}
