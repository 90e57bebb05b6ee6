import Hls from 'hls.js';

const POLL_MS = 5000;

const root = document.getElementById('player') as HTMLElement;
const playbackId = root.dataset.playbackId ?? '';
const video = root.querySelector<HTMLVideoElement>('[data-role=video]')!;
const overlay = root.querySelector<HTMLElement>('[data-role=overlay]')!;
const message = root.querySelector<HTMLElement>('[data-role=message]')!;
const badge = document.querySelector<HTMLElement>('[data-role=badge]')!;
const quality = document.querySelector<HTMLSelectElement>('[data-role=quality]')!;

interface PublicStatus {
  status: 'idle' | 'live';
  hlsUrl: string;
}

let hls: Hls | undefined;
let playing = false;
let ended = false;

function show(text: string | undefined): void {
  overlay.hidden = text === undefined;
  message.textContent = text ?? '';
}

async function fetchStatus(): Promise<PublicStatus | undefined> {
  try {
    const response = await fetch(`/api/v1/public/streams/${encodeURIComponent(playbackId)}`, { cache: 'no-store' });
    if (response.status === 404) {
      show('This stream does not exist.');
      return undefined;
    }
    return response.ok ? ((await response.json()) as PublicStatus) : undefined;
  } catch {
    return undefined;
  }
}

async function poll(): Promise<void> {
  if (!playing) {
    const status = await fetchStatus();
    if (status?.status === 'live') start(status.hlsUrl);
    else if (status && !ended) show('The stream is offline. It will start here by itself when it goes live.');
  }
  setTimeout(() => void poll(), POLL_MS);
}

function start(url: string): void {
  playing = true;
  ended = false;
  badge.hidden = false;
  show('Loading…');
  if (Hls.isSupported()) {
    hls = new Hls({ lowLatencyMode: false, backBufferLength: 30 });
    hls.on(Hls.Events.MANIFEST_PARSED, (_event, data) => {
      fillQualityMenu(data.levels.map((level) => level.height));
      void video.play().catch(() => show('Press play to start.'));
    });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal || !hls) return;
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
      else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
      else stopPlayback('Playback failed. Retrying…');
    });
    hls.loadSource(url);
    hls.attachMedia(video);
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = url;
    void video.play().catch(() => show('Press play to start.'));
  } else {
    show('This browser cannot play HLS video.');
  }
}

function stopPlayback(text: string): void {
  hls?.destroy();
  hls = undefined;
  playing = false;
  badge.hidden = true;
  quality.disabled = true;
  show(text);
}

/** hls.js orders levels by bitrate, lowest first; the menu lists the best quality first. */
function fillQualityMenu(heights: number[]): void {
  quality.replaceChildren(new Option('Auto', '-1'));
  heights
    .map((height, index) => ({ height, index }))
    .sort((a, b) => b.height - a.height)
    .forEach(({ height, index }) => quality.append(new Option(`${height}p`, String(index))));
  quality.disabled = heights.length < 2;
}

quality.addEventListener('change', () => {
  if (hls) hls.currentLevel = Number(quality.value);
});
video.addEventListener('playing', () => show(undefined));
video.addEventListener('waiting', () => show('Buffering…'));
video.addEventListener('ended', () => {
  stopPlayback('The stream has ended.');
  ended = true;
});

void poll();
