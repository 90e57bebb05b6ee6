import type { HlsConfig } from 'hls.js';

/**
 * hls.js tuned for this origin: live playlists of 2-second MPEG-TS segments with a 6-segment window
 * (hls.segmentSeconds and hls.listSize), no LL-HLS parts. The counts below are in target durations,
 * so they keep their meaning if an operator changes the segment length.
 */
export const LIVE_HLS_CONFIG: Partial<HlsConfig> = {
  // Start and stay three segments (~6 s) behind the newest one: the hold-back the HLS spec asks of
  // players. The origin lists a segment only once it is complete, so being closer means stalling
  // whenever one is a little late.
  liveSyncDurationCount: 3,
  // No maximum distance (liveMaxLatencyDurationCount keeps hls.js's default, none): a player that
  // falls out of the 6-segment window is brought back by hls.js anyway, and a maximum inside the
  // window made a paused player leap forward while paused.
  // Less than the hold-back plus a segment (~8 s) behind that point, catch up by playing up to 10%
  // faster instead of jumping: nothing is skipped, and browsers keep the pitch, so it is barely
  // noticeable. Further behind is taken as the viewer's choice (a pause, a rewind) and left alone
  // until "go live".
  maxLiveSyncPlaybackRate: 1.1,
  // After each stall aim 1 s further from the edge: a viewer on a slow network gets the buffer it
  // needs instead of stalling again (hls.js's default, stated because the go-live control uses it).
  liveSyncOnStallIncrease: 1,
  // Keep 10 s behind the playhead (the arrow keys rewind 5 s, instantly) and free the rest: a live
  // page stays open for hours, and phones have little memory for media.
  backBufferLength: 10,
  // The origin publishes no LL-HLS parts or blocking reloads, so this changes nothing about loading;
  // it stays on (hls.js's default) because hls.js only adjusts the playback rate in this mode.
  lowLatencyMode: true,
  // In Auto, never fetch more pixels than the player shows (a phone, an embed in a sidebar).
  capLevelToPlayerSize: true,
};
