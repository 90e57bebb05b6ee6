// The rules of Low-Latency HLS delivery directives (RFC 8216bis, 6.2.5): what a playlist request
// with _HLS_msn, _HLS_part and _HLS_skip asks for, when it may be answered, and when it is refused.
import type { LiveEntry } from '../packaging/catalog';
import { renderLivePlaylist } from '../packaging/media-playlist';
import type { Timeline } from '../packaging/timeline';
import { digestEtag } from './static-file';

export interface Directives {
  msn?: number;
  part?: number;
  skip: boolean;
}

export type ParsedDirectives = { ok: true; directives: Directives } | { ok: false; message: string };

const NUMBER = /^\d{1,10}$/;

/** The delivery directives of a query string; other parameters (the viewer id) are left alone. */
export function parseDirectives(query: string): ParsedDirectives {
  const directives: Directives = { skip: false };
  if (!query.includes('_HLS_')) return { ok: true, directives };
  const params = new URLSearchParams(query);
  const msn = params.get('_HLS_msn');
  const part = params.get('_HLS_part');
  const skip = params.get('_HLS_skip');
  if (msn !== null) {
    if (!NUMBER.test(msn)) return { ok: false, message: '_HLS_msn must be a media sequence number.' };
    directives.msn = Number(msn);
  }
  if (part !== null) {
    if (!NUMBER.test(part)) return { ok: false, message: '_HLS_part must be a part index.' };
    if (directives.msn === undefined) return { ok: false, message: '_HLS_part needs _HLS_msn.' };
    directives.part = Number(part);
  }
  if (skip !== null) {
    if (skip !== 'YES' && skip !== 'v2') return { ok: false, message: '_HLS_skip must be YES or v2.' };
    directives.skip = true;
  }
  return { ok: true, directives };
}

/**
 * How many parts ahead of the newest one a request may ask for: the spec's Advance Part Limit,
 * three divided by the part target (three seconds of parts).
 */
export function advancePartLimit(partTarget: number): number {
  return partTarget < 1 ? Math.floor(3 / partTarget) : 3;
}

export type Blocking = { kind: 'now' } | { kind: 'hold' } | { kind: 'refuse'; message: string };

/**
 * A blocking reload of a live low-latency playlist: answered now when the playlist already has
 * what it asks for, held until it does, or refused when it asks for more than two segments (or
 * the part limit) beyond what exists.
 */
export function blocking(timeline: Timeline, directives: Directives, partTarget: number): Blocking {
  const { msn, part } = directives;
  if (msn === undefined || timeline.ended) return { kind: 'now' };
  if (satisfied(timeline, msn, part)) return { kind: 'now' };
  const lastComplete = timeline.lastCompleteMsn ?? 0;
  if (msn > lastComplete + 2) return { kind: 'refuse', message: `_HLS_msn ${msn} is more than two segments after the last one (${lastComplete}).` };
  if (part !== undefined) {
    const last = timeline.last;
    const current = last?.msn ?? lastComplete + 1;
    const limit = advancePartLimit(partTarget);
    const ahead = msn === current ? part - (last?.part ?? -1) : msn === current + 1 ? part + 1 : Number.POSITIVE_INFINITY;
    if (ahead > limit) return { kind: 'refuse', message: `_HLS_part ${part} of segment ${msn} is more than ${limit} parts ahead.` };
  }
  return { kind: 'hold' };
}

/** The playlist has segment `msn` complete, or (with `part`) that part of it, or anything later. */
export function satisfied(timeline: Timeline, msn: number, part: number | undefined): boolean {
  const last = timeline.last;
  if (!last) return false;
  if (last.msn > msn) return true;
  if (last.msn < msn) return false;
  return part === undefined ? timeline.segment(msn)?.duration !== undefined : last.part >= part;
}

/** Where a part stands: there, still to come (hold the request), or never (404). */
export function partState(timeline: Timeline, msn: number, part: number, partTarget: number): 'present' | 'coming' | 'absent' {
  const segment = timeline.segment(msn);
  if (segment?.parts.some((p) => p.index === part)) return 'present';
  if (timeline.ended || (segment && segment.duration !== undefined)) return 'absent';
  const last = timeline.last;
  if (!last) return msn === 1 && part <= advancePartLimit(partTarget) ? 'coming' : 'absent';
  if (msn < last.msn) return 'absent';
  const ahead = msn === last.msn ? part - last.part : msn === last.msn + 1 ? part + 1 : Number.POSITIVE_INFINITY;
  return ahead <= advancePartLimit(partTarget) ? 'coming' : 'absent';
}

export interface RenderedPlaylist {
  body: Buffer;
  etag: string;
}

const rendered = new WeakMap<Timeline, { version: number; full?: RenderedPlaylist; skip?: RenderedPlaylist }>();

/**
 * A live rendition's playlist, rendered once per version of its session's timelines (its own, and
 * the others' for the rendition reports) and shared by every request for that version.
 */
export function livePlaylist(entry: LiveEntry, rendition: string, skip: boolean): RenderedPlaylist | undefined {
  const timeline = entry.timelines.get(rendition);
  if (!timeline) return undefined;
  const version = entry.version;
  let cache = rendered.get(timeline);
  if (!cache || cache.version !== version) {
    cache = { version };
    rendered.set(timeline, cache);
  }
  const key = skip ? 'skip' : 'full';
  let playlist = cache[key];
  if (!playlist) {
    const reports = [...entry.timelines].filter(([name]) => name !== rendition).map(([name, other]) => ({ rendition: name, last: other.last }));
    const body = Buffer.from(renderLivePlaylist(timeline, { mode: entry.info.mode, partTarget: entry.info.partTarget, skip, reports }));
    playlist = { body, etag: digestEtag(body) };
    cache[key] = playlist;
  }
  return playlist;
}
