// Media playlists, rendered from a rendition's timeline (pure): the live one in both latency modes
// (RFC 8216bis: parts, blocking reload, delta updates, rendition reports), the one left when the
// session ends, and the recording's.
import type { LatencyMode } from '../streams/stream-repository';
import { partName, segmentName, siblingPlaylistUri } from './media-layout';
import type { SegmentInfo } from './timeline';

export type { LatencyMode };

export interface TimelineView {
  window: readonly SegmentInfo[];
  inProgress: SegmentInfo | undefined;
  discontinuitySequence: number;
  targetDuration: number;
  ended: boolean;
}

export interface RenditionReport {
  rendition: string;
  last: { msn: number; part: number } | undefined;
}

export interface LivePlaylistOptions {
  mode: LatencyMode;
  /** PART-TARGET, seconds. */
  partTarget: number;
  /** A delta update (_HLS_skip): segments older than the skip boundary are left out. */
  skip: boolean;
  reports: readonly RenditionReport[];
}

/** The least the spec allows: six target durations. */
function skipBoundary(targetDuration: number): number {
  return 6 * targetDuration;
}

/** PART-HOLD-BACK: three parts, which the spec recommends (it requires two). */
export function partHoldBack(partTarget: number): number {
  return 3 * partTarget;
}

/** Parts are listed for the segments of the last three target durations, as the spec asks. */
const PARTS_LISTED_TARGET_DURATIONS = 3;

export function renderLivePlaylist(view: TimelineView, options: LivePlaylistOptions): string {
  const low = options.mode === 'low' && !view.ended;
  const target = view.targetDuration;
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${low ? 9 : versionFor(view.window)}`, `#EXT-X-TARGETDURATION:${target}`];
  if (low) {
    lines.push(
      `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=${seconds(skipBoundary(target))},HOLD-BACK=${seconds(3 * target)},PART-HOLD-BACK=${seconds(partHoldBack(options.partTarget))}`,
      `#EXT-X-PART-INF:PART-TARGET=${seconds(options.partTarget)}`,
    );
  }
  const window = view.window;
  const segments: SegmentInfo[] = low && view.inProgress ? [...window, view.inProgress] : [...window];
  const first = segments[0];
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${first?.msn ?? 1}`);
  if (view.discontinuitySequence > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${view.discontinuitySequence}`);
  lines.push('#EXT-X-INDEPENDENT-SEGMENTS');

  const durations = segments.map(durationOf);
  const total = durations.reduce((sum, d) => sum + d, 0);
  let skipped = 0;
  if (low && options.skip) {
    // A segment wholly older than the skip boundary is replaced by EXT-X-SKIP.
    let end = 0;
    while (skipped < window.length && end + durations[skipped]! <= total - skipBoundary(target)) end += durations[skipped++]!;
    if (skipped > 0) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);
  }
  // Parts of the newest segments only: those that begin within three target durations of the end,
  // and of three segments at most, the next one (whose first part the hint names) counted when
  // none is in progress: the tighter reading of the same rule that parsers (hls-parser) check.
  let partsFrom = segments.length;
  for (let age = durations[partsFrom - 1] ?? 0; low && partsFrom > 0 && age <= PARTS_LISTED_TARGET_DURATIONS * target; age += durations[partsFrom - 1] ?? Infinity) partsFrom -= 1;
  partsFrom = Math.max(partsFrom, segments.length + (view.inProgress ? 0 : 1) - PARTS_LISTED_TARGET_DURATIONS);

  let init: string | undefined;
  segments.forEach((segment, i) => {
    if (i < skipped) {
      init = segment.init;
      return;
    }
    if (segment.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (segment.init !== init || i === skipped) lines.push(`#EXT-X-MAP:URI="${segment.init}"`);
    init = segment.init;
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${segment.programDateTime}`);
    if (segment.gap) lines.push('#EXT-X-GAP');
    if (i >= partsFrom) {
      for (const part of segment.parts) {
        lines.push(`#EXT-X-PART:DURATION=${seconds(part.duration)},URI="${partName(segment.msn, part.index)}"${part.independent ? ',INDEPENDENT=YES' : ''}`);
      }
    }
    if (segment.duration !== undefined) lines.push(`#EXTINF:${seconds(segment.duration)},`, segmentName(segment.msn));
  });

  if (low) {
    const next = view.inProgress ? { msn: view.inProgress.msn, part: (view.inProgress.parts.at(-1)?.index ?? -1) + 1 } : { msn: (window.at(-1)?.msn ?? 0) + 1, part: 0 };
    lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${partName(next.msn, next.part)}"`);
    for (const report of options.reports) {
      if (report.last) lines.push(`#EXT-X-RENDITION-REPORT:URI="${siblingPlaylistUri(report.rendition)}",LAST-MSN=${report.last.msn},LAST-PART=${report.last.part}`);
    }
  }
  if (view.ended) lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

/** EXT-X-MAP with segments that are not I-frames only needs version 6; EXT-X-GAP needs 8. */
const VERSION = 6;
const GAP_VERSION = 8;

function versionFor(segments: ReadonlyArray<{ gap?: boolean }>): number {
  return segments.some((segment) => segment.gap) ? GAP_VERSION : VERSION;
}

function durationOf(segment: SegmentInfo): number {
  return segment.duration ?? segment.parts.reduce((sum, part) => sum + part.duration, 0);
}

/** Seconds as playlists write them: three decimals, trailing zeros kept (stable text, stable ETags). */
function seconds(value: number): string {
  return value.toFixed(3);
}

export interface RecordedSegment {
  msn: number;
  duration: number;
  discontinuity: boolean;
  programDateTime: string;
  init: string;
  /** No media: see SegmentInfo. */
  gap?: true;
}

/** The recording, as an EVENT playlist while the session runs (appended to) and a VOD once it ended. */
export function renderRecording(segments: readonly RecordedSegment[], options: { segmentSeconds: number; ended: boolean }): string {
  const longest = Math.max(0, ...segments.map((s) => s.duration));
  const lines = recordingHeader(segments[0]?.msn ?? 1, { ...options, longest, version: versionFor(segments) });
  let init: string | undefined;
  for (const segment of segments) {
    lines.push(...recordingEntry(segment, init));
    init = segment.init;
  }
  if (options.ended) lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

export function recordingHeader(firstMsn: number, options: { segmentSeconds: number; ended: boolean; longest?: number; version?: number }): string[] {
  return [
    '#EXTM3U',
    `#EXT-X-VERSION:${options.version ?? VERSION}`,
    // While it grows, segments to come may be longer than those so far: twice the configured duration.
    `#EXT-X-TARGETDURATION:${options.ended ? Math.max(options.segmentSeconds, Math.round(options.longest ?? 0)) : options.segmentSeconds * 2}`,
    `#EXT-X-PLAYLIST-TYPE:${options.ended ? 'VOD' : 'EVENT'}`,
    `#EXT-X-MEDIA-SEQUENCE:${firstMsn}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
}

/** One recorded segment's lines; `previousInit`: the init segment of the one before it. */
export function recordingEntry(segment: RecordedSegment, previousInit: string | undefined): string[] {
  return [
    ...(segment.discontinuity && previousInit !== undefined ? ['#EXT-X-DISCONTINUITY'] : []),
    ...(segment.init !== previousInit ? [`#EXT-X-MAP:URI="${segment.init}"`] : []),
    `#EXT-X-PROGRAM-DATE-TIME:${segment.programDateTime}`,
    ...(segment.gap ? ['#EXT-X-GAP'] : []),
    `#EXTINF:${seconds(segment.duration)},`,
    segmentName(segment.msn),
  ];
}

/** A recording's text once it lists a gap: EXT-X-GAP needs version 8. */
export function withGapVersion(text: string): string {
  return text.replace(/^#EXT-X-VERSION:\d+$/m, `#EXT-X-VERSION:${GAP_VERSION}`);
}

/** The playlist says no segment will be added (the stream ended, or it is a VOD). */
export function hasEndList(text: string): boolean {
  return /^#EXT-X-ENDLIST\s*$/m.test(text);
}

export function withEndList(text: string): string {
  if (hasEndList(text)) return text;
  return `${text.endsWith('\n') ? text : `${text}\n`}#EXT-X-ENDLIST\n`;
}
