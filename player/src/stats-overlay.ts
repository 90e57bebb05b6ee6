import type { EngineStats, LiveEdge } from './engine';

export interface StatsSnapshot {
  engine: EngineStats;
  edge: LiveEdge | undefined;
  bufferAhead: number;
  dropped: { dropped: number; total: number } | undefined;
}

/** The stats overlay: what is playing and how well, for viewers who ask (and for support). */
export function renderStats(list: HTMLElement, snapshot: StatsSnapshot): void {
  const { engine, edge, bufferAhead, dropped } = snapshot;
  const rows: Array<[key: string, label: string, value: string]> = [
    ['rendition', 'Rendition', engine.height ? `${engine.width}×${engine.height}` : '–'],
    ['bitrate', 'Bitrate', engine.bitrate !== undefined ? megabits(engine.bitrate) : '–'],
    ['bandwidth', 'Bandwidth', engine.bandwidth !== undefined ? `${megabits(engine.bandwidth)} est.` : '–'],
    ['buffer', 'Buffer', `${bufferAhead.toFixed(1)} s`],
    ['latency', 'Latency', edge ? `${edge.latency.toFixed(1)} s (target ${edge.target.toFixed(1)} s)` : '–'],
    ['dropped', 'Dropped frames', dropped ? `${dropped.dropped} of ${dropped.total}` : '–'],
    ['engine', 'Engine', engine.engine],
  ];
  list.replaceChildren(
    ...rows.flatMap(([key, label, value]) => {
      const term = document.createElement('dt');
      term.textContent = label;
      const description = document.createElement('dd');
      description.dataset.stat = key;
      description.textContent = value;
      return [term, description];
    }),
  );
}

function megabits(bitsPerSecond: number): string {
  return `${(bitsPerSecond / 1_000_000).toFixed(2)} Mbit/s`;
}

/** Seconds of media buffered ahead of the playhead. */
export function bufferAhead(video: HTMLVideoElement): number {
  const { buffered, currentTime } = video;
  for (let i = 0; i < buffered.length; i += 1) {
    if (buffered.start(i) <= currentTime + 0.1 && currentTime <= buffered.end(i)) return buffered.end(i) - currentTime;
  }
  return 0;
}

export function droppedFrames(video: HTMLVideoElement): StatsSnapshot['dropped'] {
  if (typeof video.getVideoPlaybackQuality !== 'function') return undefined;
  const quality = video.getVideoPlaybackQuality();
  return { dropped: quality.droppedVideoFrames, total: quality.totalVideoFrames };
}
