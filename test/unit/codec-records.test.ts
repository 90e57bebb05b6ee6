import { av1CodecString, av1Sample, av1Size, hevcCodecString, hevcSize } from '../../src/ingest/codec-records';
import type { MediaTag } from '../../src/ingest/media';
import { ffmpegStdin, inputFormatFor } from '../../src/transcode/ffmpeg-input';
import { Fmp4Reader } from '../../src/transcode/fmp4-reader';
import type { Sample, Track } from '../../src/packaging/track';

// Written by libx265 (1280x720, Main, level 3.1; its SEI array left out) and libsvtav1 (640x360).
const HVCC = Buffer.from(
  '0101600000009000000000005df000fcfdf8f800000f03a00001001840010c01ffff01600000030090000003000003005d959409a10001002b42010101600000030090000003000003005da00280802d16595952930bc05a020000030002000003003c10a2000100064401c073c189',
  'hex',
);
const AV1C = Buffer.from('81010c000a0b0000000cc4ff6700be0010', 'hex');

describe('decoder configuration records', () => {
  test('HEVC: the codec string of RFC 6381 (ISO/IEC 14496-15 E.3) and the size in the SPS', () => {
    expect(hevcCodecString(HVCC)).toBe('hvc1.1.6.L93.90');
    expect(hevcSize(HVCC)).toEqual({ width: 1280, height: 720 });
    // Main 10, high tier, level 5.1, profile space 1: compatibility flags reversed, trailing zero constraint bytes dropped.
    const main10 = Buffer.from(HVCC);
    main10[1] = 0x40 | 0x20 | 2;
    main10.writeUInt32BE(0x20000000, 2);
    main10[12] = 153;
    expect(hevcCodecString(main10)).toBe('hvc1.A2.4.H153.90');
    expect(hevcCodecString(HVCC.subarray(0, 10))).toBeUndefined();
    expect(hevcSize(HVCC.subarray(0, 40))).toBeUndefined();
  });

  test('AV1: the codec string of the AV1 ISOBMFF binding and the size in the sequence header OBU', () => {
    expect(av1CodecString(AV1C)).toBe('av01.0.01M.08');
    expect(av1Size(AV1C)).toEqual({ width: 640, height: 360 });
    const tenBitHighTier = Buffer.from(AV1C);
    tenBitHighTier[1] = (0 << 5) | 13;
    tenBitHighTier[2] = 0x80 | 0x40;
    expect(av1CodecString(tenBitHighTier)).toBe('av01.0.13H.10');
    expect(av1CodecString(Buffer.from([0x00, 1, 2, 3]))).toBeUndefined();
    expect(av1Size(AV1C.subarray(0, 8))).toBeUndefined();
  });

  test('AV1 samples lose their temporal delimiters, and nothing else', () => {
    const delimiter = Buffer.from([0x12, 0x00]);
    const frame = Buffer.from([0x32, 0x03, 0xaa, 0xbb, 0xcc]);
    expect(av1Sample(Buffer.concat([delimiter, frame]))).toEqual(frame);
    expect(av1Sample(frame)).toBe(frame);
    expect(av1Sample(Buffer.from([0x32, 0x09, 0xaa]))).toBeUndefined();
  });
});

describe("ffmpeg's input for HEVC and AV1: fragmented MP4", () => {
  const videoConfig = (timestamp: number): MediaTag => ({
    kind: 'video',
    codec: 'hevc',
    keyframe: false,
    timestamp,
    bytes: Buffer.alloc(0),
    data: HVCC,
    compositionTime: 0,
    config: { codec: 'hevc', codecString: 'hvc1.1.6.L93.90', width: 1280, height: 720 },
  });
  const audioConfig: MediaTag = {
    kind: 'audio',
    codec: 'aac',
    timestamp: 0,
    bytes: Buffer.alloc(0),
    data: Buffer.from([0x11, 0x90]),
    config: { codec: 'aac', codecString: 'mp4a.40.2', sampleRate: 48000, channels: 2 },
  };
  const frame = (timestamp: number, keyframe: boolean, compositionTime = 0): MediaTag => ({
    kind: 'video',
    codec: 'hevc',
    keyframe,
    timestamp,
    bytes: Buffer.alloc(0),
    data: Buffer.from([0, 0, 0, 2, 0x26, timestamp & 0xff]),
    compositionTime,
  });
  const audio = (timestamp: number): MediaTag => ({ kind: 'audio', codec: 'aac', timestamp, bytes: Buffer.alloc(0), data: Buffer.from([0x21, timestamp & 0xff]) });

  test('only HEVC and AV1 video go to ffmpeg as MP4', () => {
    expect(inputFormatFor('hevc', true)).toBe('mp4');
    expect(inputFormatFor('av1', true)).toBe('mp4');
    expect(inputFormatFor('h264', true)).toBe('flv');
    expect(inputFormatFor('hevc', false)).toBe('flv');
  });

  test('one moov once both sequence headers are in, then a fragment per frame with its publisher time in tfdt', () => {
    const stdin = ffmpegStdin('mp4', { video: true, audio: true });
    expect(stdin.header).toEqual([]);
    const written: Buffer[] = [];
    // Media before the moov cannot be placed and is left out.
    for (const tag of [frame(0, true), videoConfig(0), audio(0), audioConfig, frame(33, true, 66), audio(21), frame(66, false), frame(100, false)]) written.push(...stdin.tag(tag));
    let tracks: Track[] = [];
    const samples: Array<[number, Sample]> = [];
    const reader = new Fmp4Reader({ tracks: (found) => (tracks = found), sample: (index, sample) => samples.push([index, sample]) });
    reader.push(Buffer.concat(written));
    expect(tracks.map((track) => [track.kind, track.codec, track.codecString, track.timescale])).toEqual([
      ['video', 'hevc', 'hvc1.1.6.L93.90', 90000],
      ['audio', 'aac', 'mp4a.40.2', 48000],
    ]);
    expect(tracks[0]).toMatchObject({ width: 1280, height: 720, config: HVCC });
    expect(samples.map(([index, sample]) => [index, sample.dts, sample.compositionOffset, sample.keyframe])).toEqual([
      [0, 2970, 5940, true],
      [1, 1008, 0, true],
      [0, 5940, 0, false],
      [0, 9000, 0, false],
    ]);
  });
});
