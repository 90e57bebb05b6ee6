export type PlaybackErrorKind = 'network' | 'manifest' | 'media' | 'other';
export type RecoveryAction = 'reload' | 'recover-media' | 'swap-audio-codec' | 'restart';

const MEDIA_ERROR_REPEAT_MS = 3000;
const MAX_RELOADS = 3;

/**
 * What to do about a fatal hls.js error, following hls.js's documented recovery: a media error is
 * recovered with recoverMediaError(), and if another follows quickly, once more after
 * swapAudioCodec(); a network error, once hls.js's own retries are spent, with startLoad() after a
 * pause (never in a tight loop). A manifest that cannot be loaded, anything else, or recoveries
 * that keep failing mean starting over from the stream's public status. Progress in playback
 * resets the count.
 */
export class RecoveryPolicy {
  private lastMediaError: number | undefined;
  private swapped = false;
  private reloads = 0;

  constructor(private readonly now: () => number) {}

  decide(kind: PlaybackErrorKind): RecoveryAction {
    if (kind === 'network') {
      this.reloads += 1;
      return this.reloads <= MAX_RELOADS ? 'reload' : 'restart';
    }
    if (kind !== 'media') return 'restart';
    const now = this.now();
    const quickAgain = this.lastMediaError !== undefined && now - this.lastMediaError < MEDIA_ERROR_REPEAT_MS;
    this.lastMediaError = now;
    if (!quickAgain) return 'recover-media';
    if (this.swapped) return 'restart';
    this.swapped = true;
    return 'swap-audio-codec';
  }

  /** How long to wait before the n-th reload: 1 s, 2 s, 4 s. */
  reloadDelayMs(): number {
    return 1000 * 2 ** Math.max(0, this.reloads - 1);
  }

  /** Playback moved on: the next error starts the escalation again. */
  progressed(): void {
    this.lastMediaError = undefined;
    this.swapped = false;
    this.reloads = 0;
  }
}
