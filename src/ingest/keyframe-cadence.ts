import type { MediaTag } from './media';

/**
 * Where a publisher is in its GOP, from the media timestamps it sent. Only the end of a segment
 * decides when viewers can see it, and segments end at keyframes: media in the middle of a GOP can
 * wait a little without delaying anything a viewer sees; media near a keyframe cannot.
 */
export class KeyframeCadence {
  private lastKeyframe: number | undefined;
  private interval: number | undefined;
  private previousInterval: number | undefined;
  private latest = 0;

  /** Media time between the last two keyframes, once two have been seen. */
  get intervalMs(): number | undefined {
    return this.interval;
  }

  /**
   * The shorter of the last two intervals, once three keyframes have been seen: what the publisher
   * keeps to. One long GOP, as encoders send while their connection starts, does not make it long.
   */
  get sustainedIntervalMs(): number | undefined {
    return this.previousInterval === undefined || this.interval === undefined ? undefined : Math.min(this.previousInterval, this.interval);
  }

  observe(tag: MediaTag): void {
    if (tag.kind === 'metadata') return;
    this.latest = tag.timestamp;
    if (tag.kind !== 'video' || !tag.keyframe) return;
    if (this.lastKeyframe !== undefined && tag.timestamp > this.lastKeyframe) {
      this.previousInterval = this.interval;
      this.interval = tag.timestamp - this.lastKeyframe;
    }
    this.lastKeyframe = tag.timestamp;
  }

  /**
   * Whether the latest media is at least `afterMs` past a keyframe and more than `beforeMs` before
   * the next one is due. Never before two keyframes have shown the interval, nor while a keyframe
   * is late.
   */
  midGop(afterMs: number, beforeMs: number): boolean {
    if (this.lastKeyframe === undefined || this.interval === undefined) return false;
    const sinceKeyframe = this.latest - this.lastKeyframe;
    return sinceKeyframe >= afterMs && sinceKeyframe < this.interval - beforeMs;
  }

  /** Whether a tag is within `windowMs` of media time from the latest keyframe (the keyframe included). */
  nearKeyframe(tag: MediaTag, windowMs: number): boolean {
    return tag.kind !== 'metadata' && this.lastKeyframe !== undefined && tag.timestamp - this.lastKeyframe < windowMs;
  }
}
