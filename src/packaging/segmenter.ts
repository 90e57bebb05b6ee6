// Where one rendition's samples are cut into parts and segments. Pure: samples in (decode times
// in the track's timescale, on the session's timeline), cuts out. A sample's duration is only known
// when the next one arrives, so each sample is held until then.
import type { FragmentSample } from './fmp4';
import type { Sample } from './track';

export interface SegmenterOptions {
  timescale: number;
  /** PART-TARGET in ticks: no part is longer. */
  partTicks: number;
  /** The configured segment duration in ticks. */
  segmentTicks: number;
  /**
   * `keyframes`: a segment ends at the first keyframe at least a segment duration after it began
   * (video). `grid`: at the first sample a segment duration after it began (audio alone).
   * `follow`: where it is told to (audio, at each cut of the video it plays with).
   */
  cut: 'keyframes' | 'grid' | 'follow';
  /** Duration of a sample when nothing follows it (the run ended): the frame or AAC frame length. */
  defaultDuration: number;
}

export interface ClosedPart {
  samples: FragmentSample[];
  /** Decode time of its first sample. */
  baseDts: number;
  /** Ticks. */
  duration: number;
  independent: boolean;
  /** The first part of its segment. */
  first: boolean;
}

export interface SegmenterOutput {
  /** A segment begins at this decode time: told when its first sample arrives, before any of its parts. */
  segmentStart(dts: number): void;
  part(part: ClosedPart): void;
  /** The segment's last part has been given; `duration` is the sum of its parts'. */
  segmentEnd(duration: number): void;
}

/** Timestamps from FLV are whole milliseconds: a cut this close to the boundary is on it. */
const BOUNDARY_TOLERANCE_MS = 50;

export class Segmenter {
  private held: Sample | undefined;
  private lastDuration: number;
  private segmentOpen = false;
  private segmentStart = 0;
  private segmentDuration = 0;
  private part: ClosedPart | undefined;
  private readonly cuts: number[] = [];
  private readonly tolerance: number;

  constructor(
    private readonly options: SegmenterOptions,
    private readonly output: SegmenterOutput,
  ) {
    this.lastDuration = options.defaultDuration;
    this.tolerance = Math.round((options.timescale * BOUNDARY_TOLERANCE_MS) / 1000);
  }

  /** `follow`: the segment in progress ends before the first sample at or after `dts`. */
  follow(dts: number): void {
    this.cuts.push(dts);
  }

  push(sample: Sample): void {
    const held = this.held;
    let next = sample;
    if (held) {
      // Decode times must rise; a publisher's timestamps that step back are moved on a tick.
      if (next.dts <= held.dts) next = { ...next, dts: held.dts + 1 };
      const duration = Math.min(next.dts - held.dts, this.options.partTicks);
      this.lastDuration = duration;
      this.place(held, duration);
      if (this.startsSegment(next)) {
        this.closePart();
        this.closeSegment();
        this.openSegment(next.dts);
      } else if (this.part && this.part.duration + duration > this.options.partTicks) {
        // A sample as long as the last would not fit: the part is complete now, not a sample later.
        this.closePart();
      }
    } else if (!this.segmentOpen) {
      this.openSegment(next.dts);
    }
    this.held = next;
  }

  /** The run ended: what is held is placed, and the part and segment in progress are closed. */
  end(): void {
    if (this.held) this.place(this.held, this.lastDuration);
    this.held = undefined;
    this.closePart();
    this.closeSegment();
  }

  private startsSegment(sample: Sample): boolean {
    const boundary = this.segmentStart + this.options.segmentTicks - this.tolerance;
    switch (this.options.cut) {
      case 'keyframes':
        return sample.keyframe && sample.dts >= boundary;
      case 'grid':
        return sample.dts >= boundary;
      case 'follow': {
        const due = this.dropCutsUpTo(sample.dts);
        // Without the video's cuts (its track stopped), audio goes on by itself, every two segments.
        return due || sample.dts >= this.segmentStart + 2 * this.options.segmentTicks;
      }
    }
  }

  /** Known as soon as the sample that starts it arrives, so that audio can follow before it is placed. */
  private openSegment(dts: number): void {
    this.segmentOpen = true;
    this.segmentStart = dts;
    this.segmentDuration = 0;
    this.dropCutsUpTo(dts);
    this.output.segmentStart(dts);
  }

  /** Drops the cuts that fall within half a sample of `dts` or before it; whether there were any. */
  private dropCutsUpTo(dts: number): boolean {
    const limit = dts + this.lastDuration / 2;
    let dropped = false;
    while (this.cuts.length > 0 && this.cuts[0]! <= limit) {
      this.cuts.shift();
      dropped = true;
    }
    return dropped;
  }

  private place(sample: Sample, duration: number): void {
    if (this.part && this.part.duration + duration > this.options.partTicks) this.closePart();
    const entry: FragmentSample = { duration, compositionOffset: sample.compositionOffset, keyframe: sample.keyframe, data: sample.data };
    if (this.part) {
      this.part.samples.push(entry);
      this.part.duration += duration;
    } else {
      this.part = { samples: [entry], baseDts: sample.dts, duration, independent: sample.keyframe, first: this.segmentDuration === 0 };
    }
  }

  private closePart(): void {
    const part = this.part;
    if (!part) return;
    this.part = undefined;
    this.segmentDuration += part.duration;
    this.output.part(part);
  }

  private closeSegment(): void {
    if (!this.segmentOpen) return;
    this.segmentOpen = false;
    this.output.segmentEnd(this.segmentDuration);
  }
}
