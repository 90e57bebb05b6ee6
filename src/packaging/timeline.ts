// A rendition's live structure: its segments, their parts, where each part's bytes are. The
// packager changes it only through TimelineEvents, which delivery processes receive too and apply
// to their own copy, so every process answers from the same structure without reading playlists.

export interface PartInfo {
  index: number;
  /** Seconds. */
  duration: number;
  /** Starts with a keyframe (every audio part does). */
  independent: boolean;
  /** Where its bytes are in the segment's file. */
  offset: number;
  length: number;
}

export interface SegmentInfo {
  msn: number;
  /** Seconds; set once the segment is complete. */
  duration?: number;
  /** The first segment of a run after another one: a new timeline and, with it, a new init segment. */
  discontinuity: boolean;
  /** ISO 8601, from the publisher's clock. */
  programDateTime: string;
  /** The init segment's file name (EXT-X-MAP). */
  init: string;
  parts: PartInfo[];
  /**
   * No media (EXT-X-GAP): the other renditions have this time and this one lost it (its
   * transcoder stalled), so that the same number starts at the same time in every rendition.
   */
  gap?: true;
}

type SegmentStart = Omit<SegmentInfo, 'msn' | 'parts' | 'duration' | 'gap'>;

export type TimelineEvent =
  | { type: 'part'; msn: number; part: PartInfo; start?: SegmentStart }
  | { type: 'segment'; msn: number; duration: number }
  /** A complete segment without media. */
  | { type: 'gap'; msn: number; duration: number; start: SegmentStart }
  | { type: 'ended' };

export interface TimelineOptions {
  /** Complete segments in the live window. */
  listSize: number;
  /** The configured segment duration, in seconds: the least the target duration can be. */
  segmentSeconds: number;
  /** Discontinuities before the first segment (a session continued from another node); 0 if absent. */
  discontinuitySequence?: number;
}

/**
 * Complete segments kept, on disk and in the timeline: the window, and as many before it, since
 * players that read the playlist a moment ago may still ask for them.
 */
export function keptSegments(listSize: number): number {
  return 2 * listSize;
}

export class Timeline {
  /** Complete segments still on disk (the window, and as many before it), then the one in progress. */
  readonly segments: SegmentInfo[] = [];
  /** EXT-X-DISCONTINUITY-SEQUENCE: discontinuities that have left the window's head. */
  discontinuitySequence = 0;
  ended = false;
  private longest = 0;
  private countedUpTo = 0;

  constructor(private readonly options: TimelineOptions) {
    this.discontinuitySequence = options.discontinuitySequence ?? 0;
  }

  apply(event: TimelineEvent): void {
    if (event.type === 'ended') {
      this.ended = true;
      return;
    }
    if (event.type === 'part') {
      let segment = this.segments.at(-1);
      if (event.start || !segment || segment.msn !== event.msn) {
        segment = { msn: event.msn, parts: [], discontinuity: false, programDateTime: '', init: '', ...event.start };
        this.segments.push(segment);
      }
      segment.parts.push(event.part);
      return;
    }
    if (event.type === 'gap') this.segments.push({ msn: event.msn, parts: [], ...event.start, duration: event.duration, gap: true });
    const segment = this.segment(event.msn);
    if (!segment) return;
    segment.duration = event.duration;
    this.longest = Math.max(this.longest, event.duration);
    this.trim();
  }

  /** Everything needed to rebuild this timeline in another process. */
  state(): { segments: SegmentInfo[]; discontinuitySequence: number; ended: boolean; longest: number; countedUpTo: number } {
    const { segments, discontinuitySequence, ended, longest, countedUpTo } = this;
    return { segments, discontinuitySequence, ended, longest, countedUpTo };
  }

  restore(state: ReturnType<Timeline['state']>): void {
    this.segments.splice(0, this.segments.length, ...state.segments);
    ({ discontinuitySequence: this.discontinuitySequence, ended: this.ended, longest: this.longest, countedUpTo: this.countedUpTo } = state);
  }

  /** The complete segments a live playlist lists. */
  get window(): SegmentInfo[] {
    const complete = this.segments.filter((s) => s.duration !== undefined);
    return complete.slice(-this.options.listSize);
  }

  /** The segment being written, if its first part exists. */
  get inProgress(): SegmentInfo | undefined {
    const last = this.segments.at(-1);
    return last && last.duration === undefined ? last : undefined;
  }

  /** The newest part: what blocking requests and rendition reports are measured against. */
  get last(): { msn: number; part: number } | undefined {
    const segment = this.segments.at(-1);
    const part = segment?.parts.at(-1);
    return segment && part ? { msn: segment.msn, part: part.index } : undefined;
  }

  /** The newest complete segment's number, or the one before the first segment. */
  get lastCompleteMsn(): number | undefined {
    const complete = this.window.at(-1);
    if (complete) return complete.msn;
    const first = this.segments[0];
    return first ? first.msn - 1 : undefined;
  }

  /** EXT-X-TARGETDURATION: the longest segment so far, rounded, and never below the configured duration. */
  get targetDuration(): number {
    return Math.max(this.options.segmentSeconds, Math.round(this.longest));
  }

  segment(msn: number): SegmentInfo | undefined {
    const first = this.segments[0];
    if (!first) return undefined;
    const candidate = this.segments[msn - first.msn];
    return candidate?.msn === msn ? candidate : this.segments.find((s) => s.msn === msn);
  }

  /** Counts the discontinuities that left the window; forgets what is older than the kept segments. */
  private trim(): void {
    const head = this.window[0]?.msn;
    if (head === undefined) return;
    for (const segment of this.segments) {
      if (segment.msn >= head) break;
      if (segment.msn >= this.countedUpTo) {
        if (segment.discontinuity) this.discontinuitySequence += 1;
        this.countedUpTo = segment.msn + 1;
      }
    }
    const keep = keptSegments(this.options.listSize);
    const complete = this.segments.filter((s) => s.duration !== undefined).length;
    if (complete > keep) this.segments.splice(0, complete - keep);
  }
}
