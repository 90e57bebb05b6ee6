/** The part of hls.js's LevelDetails that a delta update (EXT-X-SKIP) leaves incomplete. */
export interface DeltaDetails {
  /** A skipped segment is an empty slot until hls.js fills it from the playlist it had. */
  fragments: Array<{ sn: number } | null | undefined>;
  startSN: number;
}

/**
 * Removes the skipped segments that hls.js never filled in, as hls.js itself does when it cannot
 * merge a delta update with the playlist it had. Returns whether it removed any.
 *
 * hls.js (1.7) merges a delta update only when it is for the rendition it is playing. Its ABR can
 * switch rendition while the update is being handled (it gives up on a first part that loads
 * slowly), so the update is for the rendition just left and keeps its empty slots. Its audio
 * controller keeps these details all the same and, while it waits for the first video part, reads
 * the first slot on every tick until the next playlist replaces them: an uncaught TypeError each
 * time.
 */
export function dropUnfilledSkips(details: DeltaDetails): boolean {
  const { fragments } = details;
  let lastEmpty = fragments.length - 1;
  while (lastEmpty >= 0 && fragments[lastEmpty] != null) lastEmpty -= 1;
  const first = fragments[lastEmpty + 1];
  if (lastEmpty < 0 || !first) return false;
  // Everything up to the last empty slot, so the segments left follow one another; in place,
  // because hls.js's controllers hold this very array.
  fragments.splice(0, lastEmpty + 1);
  details.startSN = first.sn;
  return true;
}
