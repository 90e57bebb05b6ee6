import type { HlsConfig } from 'hls.js';

/**
 * hls.js tuned for this origin: CMAF segments of 2 s with LL-HLS parts and blocking playlist
 * reloads (low latency mode, the default), or whole segments (standard mode). Where to sit behind
 * the live edge is the playlist's to say (PART-HOLD-BACK, or HOLD-BACK in standard mode): nothing
 * here overrides it, so the operator's segment and part lengths keep their meaning.
 */
export const LIVE_HLS_CONFIG: Partial<HlsConfig> = {
  // Parts, blocking reloads and delta updates when the playlist offers them; hls.js also adjusts
  // the playback rate only in this mode.
  lowLatencyMode: true,
  // No maximum distance (liveMaxLatencyDurationCount keeps hls.js's default, none): a player that
  // falls out of the window is brought back by hls.js anyway, and a maximum inside the window made
  // a paused player leap forward while paused.
  // A player that has fallen behind its target catches up by playing up to 10% faster instead of
  // jumping: nothing is skipped, and browsers keep the pitch, so it is barely noticeable. Further
  // behind is taken as the viewer's choice (a pause, a rewind) and left alone until "go live".
  maxLiveSyncPlaybackRate: 1.1,
  // After each stall aim 1 s further from the edge: a viewer on a slow network gets the buffer it
  // needs instead of stalling again (hls.js's default, stated because the go-live control uses it).
  liveSyncOnStallIncrease: 1,
  // Keep 10 s behind the playhead (the arrow keys rewind 5 s, instantly) and free the rest: a live
  // page stays open for hours, and phones have little memory for media.
  backBufferLength: 10,
  // In Auto, never fetch more pixels than the player shows (a phone, an embed in a sidebar).
  capLevelToPlayerSize: true,
};
