// The ISO-BMFF boxes of CMAF: an init segment per track, and fragments (moof + mdat) for its
// samples. Written here rather than with a library (docs/decisions.md): a handful of fixed boxes,
// built straight into Buffers, with the samples' bytes handed on untouched for the kernel to
// gather (writev) instead of being copied into a box tree.
import type { AudioTrack, PackagedVideoCodec, Track, VideoTrack } from './track';

/** One track per CMAF file: its track id is 1. (ffmpeg's input, with several, numbers them from 1.) */
const TRACK_ID = 1;

/** The sample entry and its configuration box, by codec. */
const VIDEO_ENTRIES: Record<PackagedVideoCodec, [entry: string, config: string]> = {
  h264: ['avc1', 'avcC'],
  hevc: ['hvc1', 'hvcC'],
  av1: ['av01', 'av1C'],
};

const SAMPLE_IS_SYNC = 0x02000000; // sample_depends_on = 2 (depends on no other)
const SAMPLE_IS_NOT_SYNC = 0x01010000; // sample_depends_on = 1, sample_is_non_sync_sample

const TRUN_DATA_OFFSET = 0x000001;
const TRUN_DURATION = 0x000100;
const TRUN_SIZE = 0x000200;
const TRUN_FLAGS = 0x000400;
const TRUN_COMPOSITION = 0x000800;
const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;

function box(type: string, ...payload: Buffer[]): Buffer {
  const size = 8 + payload.reduce((sum, part) => sum + part.length, 0);
  const header = Buffer.allocUnsafe(8);
  header.writeUInt32BE(size, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, ...payload], size);
}

function fullBox(type: string, version: number, flags: number, ...payload: Buffer[]): Buffer {
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, head, ...payload);
}

function u32(...values: number[]): Buffer {
  const out = Buffer.allocUnsafe(values.length * 4);
  values.forEach((value, i) => out.writeUInt32BE(value >>> 0, i * 4));
  return out;
}

const UNITY_MATRIX = u32(0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000);

/**
 * ftyp + moov with an empty sample table and mvex: every sample comes in fragments. One track for
 * CMAF; several (numbered from 1 in order) for ffmpeg's input.
 */
export function initSegment(...tracks: Track[]): Buffer {
  const ftyp = box('ftyp', Buffer.from('iso6', 'latin1'), u32(0), Buffer.from('iso6cmfcmp41', 'latin1'));
  const mvhd = fullBox('mvhd', 0, 0, u32(0, 0, 1000, 0, 0x00010000), Buffer.from([0x01, 0x00, 0, 0]), Buffer.alloc(8), UNITY_MATRIX, Buffer.alloc(24), u32(tracks.length + 1));
  const traks = tracks.map((track, i) => trak(track, TRACK_ID + i));
  const mvex = box('mvex', ...tracks.map((_track, i) => fullBox('trex', 0, 0, u32(TRACK_ID + i, 1, 0, 0, 0))));
  return Buffer.concat([ftyp, box('moov', mvhd, ...traks, mvex)]);
}

function trak(track: Track, trackId: number): Buffer {
  const video = track.kind === 'video';
  const tkhd = fullBox(
    'tkhd',
    0,
    0x000003, // enabled, in movie
    u32(0, 0, trackId, 0, 0),
    Buffer.alloc(8),
    Buffer.from([0, 0, 0, 0, video ? 0 : 0x01, 0, 0, 0]), // layer, alternate group, volume, reserved
    UNITY_MATRIX,
    u32(video ? track.width << 16 : 0, video ? track.height << 16 : 0),
  );
  const mdhd = fullBox('mdhd', 0, 0, u32(0, 0, track.timescale, 0), Buffer.from([0x55, 0xc4, 0, 0])); // language "und"
  const hdlr = fullBox('hdlr', 0, 0, u32(0), Buffer.from(video ? 'vide' : 'soun', 'latin1'), Buffer.alloc(12), Buffer.from(video ? 'Video\0' : 'Audio\0', 'latin1'));
  const mediaHeader = video ? fullBox('vmhd', 0, 1, Buffer.alloc(8)) : fullBox('smhd', 0, 0, Buffer.alloc(4));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1)));
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32(1), video ? visualSampleEntry(track) : mp4a(track)),
    fullBox('stts', 0, 0, u32(0)),
    fullBox('stsc', 0, 0, u32(0)),
    fullBox('stsz', 0, 0, u32(0, 0)),
    fullBox('stco', 0, 0, u32(0)),
  );
  return box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', mediaHeader, dinf, stbl)));
}

function visualSampleEntry(track: VideoTrack): Buffer {
  const entry = Buffer.alloc(78);
  entry.writeUInt16BE(1, 6); // data_reference_index
  entry.writeUInt16BE(track.width, 24);
  entry.writeUInt16BE(track.height, 26);
  entry.writeUInt32BE(0x00480000, 28); // 72 dpi
  entry.writeUInt32BE(0x00480000, 32);
  entry.writeUInt16BE(1, 40); // frame_count
  entry.writeUInt16BE(0x0018, 74); // depth
  entry.writeInt16BE(-1, 76);
  const [type, config] = VIDEO_ENTRIES[track.codec];
  return box(type, entry, box(config, track.config));
}

function mp4a(track: AudioTrack): Buffer {
  const entry = Buffer.alloc(28);
  entry.writeUInt16BE(1, 6); // data_reference_index
  entry.writeUInt16BE(track.channels, 16);
  entry.writeUInt16BE(16, 18); // sample size
  entry.writeUInt32BE((track.sampleRate & 0xffff) * 0x10000, 24);
  return box('mp4a', entry, esds(track.config));
}

/** ISO 14496-1 descriptors: ES_Descriptor > DecoderConfigDescriptor > DecoderSpecificInfo (the AudioSpecificConfig). */
function esds(audioSpecificConfig: Buffer): Buffer {
  const descriptor = (tag: number, ...payload: Buffer[]): Buffer => {
    const body = Buffer.concat(payload);
    // The four-byte length form, which every parser reads, whatever the size.
    const length = body.length;
    return Buffer.concat([Buffer.from([tag, 0x80 | ((length >> 21) & 0x7f), 0x80 | ((length >> 14) & 0x7f), 0x80 | ((length >> 7) & 0x7f), length & 0x7f]), body]);
  };
  const decoderConfig = descriptor(
    0x04,
    Buffer.from([0x40, 0x15, 0, 0, 0]), // MPEG-4 audio, audio stream, bufferSizeDB 0
    u32(0, 0), // max and average bitrate: unknown
    descriptor(0x05, audioSpecificConfig),
  );
  const es = descriptor(0x03, Buffer.from([0, TRACK_ID, 0]), decoderConfig, descriptor(0x06, Buffer.from([0x02])));
  return fullBox('esds', 0, 0, es);
}

export interface FragmentSample {
  duration: number;
  compositionOffset: number;
  keyframe: boolean;
  data: Buffer;
}

/**
 * One CMAF chunk: a moof for `samples` starting at decode time `baseDts` (the track's timescale),
 * then the mdat. Returned as the boxes' headers and the samples' own buffers, in order.
 */
export function fragment(sequence: number, baseDts: number, samples: readonly FragmentSample[], withComposition: boolean, trackId = TRACK_ID): Buffer[] {
  const flags = TRUN_DATA_OFFSET | TRUN_DURATION | TRUN_SIZE | TRUN_FLAGS | (withComposition ? TRUN_COMPOSITION : 0);
  const entryBytes = withComposition ? 16 : 12;
  const trunBytes = 12 + 8 + samples.length * entryBytes;
  const tfhdBytes = 16;
  const tfdtBytes = 20;
  const trafBytes = 8 + tfhdBytes + tfdtBytes + trunBytes;
  const moofBytes = 8 + 16 + trafBytes;
  let mdatBytes = 8;
  for (const sample of samples) mdatBytes += sample.data.length;

  const head = Buffer.allocUnsafe(moofBytes + 8);
  let at = 0;
  const write32 = (value: number) => {
    head.writeUInt32BE(value >>> 0, at);
    at += 4;
  };
  const type = (name: string) => {
    head.write(name, at, 'latin1');
    at += 4;
  };
  write32(moofBytes);
  type('moof');
  write32(16);
  type('mfhd');
  write32(0);
  write32(sequence);
  write32(trafBytes);
  type('traf');
  write32(tfhdBytes);
  type('tfhd');
  write32(TFHD_DEFAULT_BASE_IS_MOOF);
  write32(trackId);
  write32(tfdtBytes);
  type('tfdt');
  write32(0x01000000); // version 1: a 64-bit decode time
  head.writeBigUInt64BE(BigInt(Math.max(0, Math.round(baseDts))), at);
  at += 8;
  write32(trunBytes);
  type('trun');
  write32((1 << 24) | flags); // version 1: signed composition offsets
  write32(samples.length);
  write32(moofBytes + 8); // data offset, from the moof's first byte to the first sample
  for (const sample of samples) {
    write32(sample.duration);
    write32(sample.data.length);
    write32(sample.keyframe ? SAMPLE_IS_SYNC : SAMPLE_IS_NOT_SYNC);
    if (withComposition) {
      head.writeInt32BE(sample.compositionOffset, at);
      at += 4;
    }
  }
  write32(mdatBytes);
  type('mdat');
  return [head, ...samples.map((sample) => sample.data)];
}
