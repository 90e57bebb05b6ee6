import { findPlayerDom } from './dom';
import { HlsEngine, hlsJsSupported } from './hls-engine';
import { NativeEngine } from './native-engine';
import { Player } from './player';
import { initialStatus } from './status';
import { newViewerSessionId } from './viewer-session';

const dom = findPlayerDom(document);
const player = new Player(dom, dom.root.dataset.playbackId ?? '', newViewerSessionId(), (video, url, events) => {
  // hls.js wherever Media Source Extensions exist; Safari's own HLS where they do not (older iPhones).
  if (hlsJsSupported()) return new HlsEngine(video, url, events);
  if (video.canPlayType('application/vnd.apple.mpegurl')) return new NativeEngine(video, url, events);
  return undefined;
});
player.begin(initialStatus());
