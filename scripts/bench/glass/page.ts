// Glass-to-glass: plays an HLS URL with hls.js (configured like the origin's player) and reads the
// media time burned into the picture (see clockFilter in scripts/lib/test-pattern.ts).
import Hls from 'hls.js';
import { LIVE_HLS_CONFIG } from '../../../player/src/hls-config';
import { CLOCK_BITS, CLOCK_BLOCK } from '../../lib/test-pattern';

const SOURCE_WIDTH = 1280;
const SOURCE_HEIGHT = 720;

const video = document.querySelector('video')!;
const source = new URLSearchParams(location.search).get('src')!;
const hls = new Hls(LIVE_HLS_CONFIG);
hls.loadSource(source);
hls.attachMedia(video);
video.muted = true;
void video.play().catch(() => undefined);

const canvas = document.createElement('canvas');
const context = canvas.getContext('2d', { willReadFrequently: true })!;

/** The burned media time of the frame on screen, in seconds; undefined before the first frame. */
function readClock(): number | undefined {
  if (video.videoWidth === 0 || video.readyState < 2) return undefined;
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  context.drawImage(video, 0, 0);
  const sx = video.videoWidth / SOURCE_WIDTH;
  const sy = video.videoHeight / SOURCE_HEIGHT;
  let value = 0;
  for (let bit = 0; bit < CLOCK_BITS; bit++) {
    const [r, g, b] = context.getImageData(Math.round((bit * CLOCK_BLOCK + CLOCK_BLOCK / 2) * sx), Math.round((CLOCK_BLOCK / 2) * sy), 1, 1).data;
    if ((r! + g! + b!) / 3 > 128) value += 2 ** bit;
  }
  return value / 100;
}

/** How far behind the live edge hls.js reckons the player is (the playlist's end, aged since it was loaded), in seconds. */
function readDistance(): number | undefined {
  return video.readyState < 2 ? undefined : hls.latency;
}

/** When (ms since the epoch) this player first saw each segment of its level, by sequence number. */
const found = new Map<number, number>();
hls.on(Hls.Events.LEVEL_LOADED, (_event, data) => {
  if (!found.has(data.details.endSN)) found.set(data.details.endSN, Date.now());
});
function readFound(): Array<[number, number]> {
  return [...found];
}

Object.assign(window, { readClock, readDistance, readFound });
