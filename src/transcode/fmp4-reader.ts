// Reads ffmpeg's fragmented MP4 output (one fragment per frame, every encoded rendition a track)
// back into tracks and samples for the packager. The moov's sample descriptions are parsed by the
// Common Media Library's ISO-BMFF parser; fragments by the few lines below (readFragment says why).
import { avc1, hdlr, hev1, hvc1, mdhd, mp4a, parseBoxes, stsd, tkhd } from '@svta/common-media-library';
import { av1CodecString, hevcCodecString } from '../ingest/codec-records';
import { aacCodecString, avcCodecString } from '../ingest/media';
import type { PackagedVideoCodec, Sample, Track } from '../packaging/track';

// The library has no parser of its own for av01; its sample entry has the fields of every visual one.
const PARSERS = { avc1, av01: avc1, hdlr, hev1, hvc1, mdhd, mp4a, stsd, tkhd };

/** By sample entry: the codec, its configuration box, and the codec string that box gives. */
const VIDEO_ENTRIES: Record<string, { codec: PackagedVideoCodec; box: string; codecString: (config: Buffer) => string | undefined }> = {
  avc1: { codec: 'h264', box: 'avcC', codecString: avcCodecString },
  hvc1: { codec: 'hevc', box: 'hvcC', codecString: hevcCodecString },
  hev1: { codec: 'hevc', box: 'hvcC', codecString: hevcCodecString },
  av01: { codec: 'av1', box: 'av1C', codecString: av1CodecString },
};
const SAMPLE_IS_NON_SYNC = 0x00010000;
/** ffmpeg writes a fragment per frame: a box this large is not something it wrote. */
const MAX_BOX_BYTES = 64 * 1024 * 1024;

export interface Fmp4ReaderEvents {
  /** The tracks, in track-id order, once the moov has been read. */
  tracks(tracks: Track[]): void;
  /** A sample of the track at `index` in that order. */
  sample(index: number, sample: Sample): void;
}

export class Fmp4FormatError extends Error {
  override name = 'Fmp4FormatError';
}

interface TrackInfo {
  id: number;
  timescale: number;
}

interface ParsedBox {
  type: string;
  boxes?: ParsedBox[];
  entries?: ParsedBox[];
  [field: string]: unknown;
}

/** Incremental: bytes go in as the pipe delivers them, samples come out as each fragment completes. */
export class Fmp4Reader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private tracks: TrackInfo[] = [];
  private moof: Buffer | undefined;

  constructor(private readonly events: Fmp4ReaderEvents) {}

  /** Throws Fmp4FormatError on output that is not fragmented MP4 as ffmpeg writes it. */
  push(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    for (;;) {
      if (this.pendingBytes < 8) return;
      const head = this.peek(8);
      const size = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      if (size < 8 || size > MAX_BOX_BYTES) throw new Fmp4FormatError(`a ${type} box of ${size} bytes`);
      if (this.pendingBytes < size) return;
      this.box(type, this.take(size));
    }
  }

  private box(type: string, bytes: Buffer): void {
    if (type === 'moov') this.readMoov(bytes);
    else if (type === 'moof') this.moof = bytes;
    else if (type === 'mdat') {
      const moof = this.moof;
      this.moof = undefined;
      if (moof) this.readFragment(moof, bytes);
    }
  }

  private readMoov(bytes: Buffer): void {
    const boxes = parse(bytes);
    const traks = (find(boxes, 'moov')?.boxes ?? []).filter((b) => b.type === 'trak');
    const tracks: Track[] = [];
    this.tracks = [];
    for (const trak of traks) {
      const id = Number(find([trak], 'tkhd')?.trackId);
      const timescale = Number(find([trak], 'mdhd')?.timescale);
      const handler = String(find([trak], 'hdlr')?.handlerType);
      const entry = (find([trak], 'stsd')?.entries ?? [])[0];
      if (!entry || !(timescale > 0)) throw new Fmp4FormatError('a track without a sample description');
      tracks.push(handler === 'vide' ? videoTrack(entry, timescale) : audioTrack(entry, timescale));
      this.tracks.push({ id, timescale });
    }
    const order = this.tracks.map((_, i) => i).sort((a, b) => this.tracks[a]!.id - this.tracks[b]!.id);
    this.tracks = order.map((i) => this.tracks[i]!);
    this.events.tracks(order.map((i) => tracks[i]!));
  }

  /**
   * A moof is read here rather than by the library: its base decode time must be read as a signed
   * 64-bit integer (ffmpeg puts AAC's priming frame before zero, at -1024), which the library reads
   * as an unsigned number and rounds.
   */
  private readFragment(moof: Buffer, mdat: Buffer): void {
    const dataStart = moof.length + 8;
    for (const traf of children(moof, 8, moof.length).filter((box) => box.type === 'traf')) {
      const boxes = children(moof, traf.start + 8, traf.end);
      const header = boxes.find((box) => box.type === 'tfhd');
      if (!header) throw new Fmp4FormatError('a fragment without a tfhd');
      const defaults = readTfhd(moof, header.start + 8);
      const index = this.tracks.findIndex((track) => track.id === defaults.trackId);
      if (index < 0) throw new Fmp4FormatError('a fragment of an unknown track');
      const decodeTime = boxes.find((box) => box.type === 'tfdt');
      let dts = decodeTime ? readTfdt(moof, decodeTime.start + 8) : 0;
      for (const run of boxes.filter((box) => box.type === 'trun')) {
        const entries = readTrun(moof, run.start + 8, run.end, defaults);
        let at = (entries.dataOffset ?? dataStart) - dataStart;
        for (const entry of entries.samples) {
          if (at < 0 || at + entry.size > mdat.length - 8) throw new Fmp4FormatError('a sample outside its mdat');
          this.events.sample(index, {
            dts,
            compositionOffset: entry.compositionOffset,
            keyframe: (entry.flags & SAMPLE_IS_NON_SYNC) === 0,
            data: mdat.subarray(8 + at, 8 + at + entry.size),
          });
          at += entry.size;
          dts += entry.duration;
        }
      }
    }
  }

  /** The first `bytes` (which have arrived) in one buffer: only the chunks they span are joined. */
  private peek(bytes: number): Buffer {
    let have = this.pending[0]!.length;
    if (have < bytes) {
      let count = 1;
      while (have < bytes) have += this.pending[count++]!.length;
      this.pending.splice(0, count, Buffer.concat(this.pending.slice(0, count), have));
    }
    return this.pending[0]!;
  }

  private take(bytes: number): Buffer {
    const first = this.peek(bytes);
    const taken = first.subarray(0, bytes);
    if (first.length === bytes) this.pending.shift();
    else this.pending[0] = first.subarray(bytes);
    this.pendingBytes -= bytes;
    return taken;
  }
}

interface BoxSpan {
  type: string;
  start: number;
  end: number;
}

/** The boxes between `from` and `to` (a container's contents), each checked to fit. */
function children(bytes: Buffer, from: number, to: number): BoxSpan[] {
  const spans: BoxSpan[] = [];
  for (let at = from; at + 8 <= to;) {
    const size = bytes.readUInt32BE(at);
    if (size < 8 || at + size > to) throw new Fmp4FormatError('a box that does not fit in its container');
    spans.push({ type: bytes.toString('latin1', at + 4, at + 8), start: at, end: at + size });
    at += size;
  }
  return spans;
}

interface TrackDefaults {
  trackId: number;
  duration: number;
  size: number;
  flags: number;
}

function need(bytes: Buffer, at: number, length: number): void {
  if (at + length > bytes.length) throw new Fmp4FormatError('a box shorter than its fields');
}

function readTfhd(bytes: Buffer, at: number): TrackDefaults {
  need(bytes, at, 8);
  const flags = bytes.readUInt32BE(at) & 0xffffff;
  const defaults: TrackDefaults = { trackId: bytes.readUInt32BE(at + 4), duration: 0, size: 0, flags: 0 };
  let field = at + 8;
  if (flags & 0x01) field += 8; // base data offset: ffmpeg's fragments are based on their moof
  if (flags & 0x02) field += 4; // sample description index
  const read = () => {
    need(bytes, field, 4);
    const value = bytes.readUInt32BE(field);
    field += 4;
    return value;
  };
  if (flags & 0x08) defaults.duration = read();
  if (flags & 0x10) defaults.size = read();
  if (flags & 0x20) defaults.flags = read();
  return defaults;
}

function readTfdt(bytes: Buffer, at: number): number {
  need(bytes, at, 8);
  return bytes[at] === 1 ? Number((need(bytes, at, 12), bytes.readBigInt64BE(at + 4))) : bytes.readUInt32BE(at + 4);
}

function readTrun(bytes: Buffer, at: number, end: number, defaults: TrackDefaults) {
  need(bytes, at, 8);
  const version = bytes[at]!;
  const flags = bytes.readUInt32BE(at) & 0xffffff;
  const count = bytes.readUInt32BE(at + 4);
  let field = at + 8;
  const read = () => {
    if (field + 4 > end) throw new Fmp4FormatError('a trun shorter than its samples');
    const value = bytes.readUInt32BE(field);
    field += 4;
    return value;
  };
  const dataOffset = flags & 0x01 ? read() | 0 : undefined;
  const firstFlags = flags & 0x04 ? read() : undefined;
  const samples = [];
  for (let i = 0; i < count; i++) {
    const duration = flags & 0x100 ? read() : defaults.duration;
    const size = flags & 0x200 ? read() : defaults.size;
    const sampleFlags = flags & 0x400 ? read() : i === 0 && firstFlags !== undefined ? firstFlags : defaults.flags;
    const composition = flags & 0x800 ? read() : 0;
    samples.push({ duration, size, flags: sampleFlags, compositionOffset: version === 1 ? composition | 0 : composition });
  }
  return { dataOffset, samples };
}

function parse(bytes: Buffer): ParsedBox[] {
  return parseBoxes(new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length), { parsers: PARSERS, recursive: true }) as unknown as ParsedBox[];
}

function find(boxes: readonly ParsedBox[], type: string): ParsedBox | undefined {
  for (const candidate of boxes) {
    if (candidate.type === type) return candidate;
    const inner = (candidate.boxes && find(candidate.boxes, type)) ?? (candidate.entries && find(candidate.entries, type));
    if (inner) return inner;
  }
  return undefined;
}

/** The boxes inside a sample entry, after its fixed fields (what the parser leaves as `config` or `esds`). */
function childBoxes(bytes: Uint8Array): Map<string, Buffer> {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = new Map<string, Buffer>();
  let at = 0;
  while (at + 8 <= data.length) {
    const size = data.readUInt32BE(at);
    if (size < 8 || at + size > data.length) break;
    found.set(data.toString('latin1', at + 4, at + 8), data.subarray(at + 8, at + size));
    at += size;
  }
  return found;
}

function videoTrack(entry: ParsedBox, timescale: number): Track {
  const kind = VIDEO_ENTRIES[entry.type];
  const config = kind && childBoxes(entry.config as Uint8Array).get(kind.box);
  const codecString = config && config.length >= 4 ? kind.codecString(config) : undefined;
  if (!kind || !config || codecString === undefined) throw new Fmp4FormatError(`video in ${entry.type}, not H.264, HEVC or AV1 with its configuration box`);
  return {
    kind: 'video',
    codec: kind.codec,
    config: Buffer.from(config),
    codecString,
    width: Number(entry.width),
    height: Number(entry.height),
    timescale,
  };
}

function audioTrack(entry: ParsedBox, timescale: number): Track {
  const esds = childBoxes(entry.esds as Uint8Array).get('esds');
  const config = esds && decoderSpecificInfo(esds.subarray(4));
  if (entry.type !== 'mp4a' || !config || config.length < 2) throw new Fmp4FormatError(`audio in ${entry.type}, not AAC with an esds`);
  return {
    kind: 'audio',
    codec: 'aac',
    config,
    codecString: aacCodecString(config),
    sampleRate: timescale,
    channels: Number(entry.channelcount),
    timescale,
  };
}

/** The DecoderSpecificInfo (tag 5) inside an ES_Descriptor: the AudioSpecificConfig. */
function decoderSpecificInfo(descriptors: Buffer): Buffer | undefined {
  let at = 0;
  while (at + 2 <= descriptors.length) {
    const tag = descriptors[at]!;
    let length = 0;
    let i = at + 1;
    for (let n = 0; n < 4 && i < descriptors.length; n++) {
      const byte = descriptors[i++]!;
      length = (length << 7) | (byte & 0x7f);
      if ((byte & 0x80) === 0) break;
    }
    if (tag === 0x05) return Buffer.from(descriptors.subarray(i, i + length));
    if (tag === 0x03)
      at = i + 3; // ES_ID and flags (no URL or OCR in what ffmpeg writes)
    else if (tag === 0x04)
      at = i + 13; // DecoderConfigDescriptor's fixed fields
    else at = i + length;
  }
  return undefined;
}
