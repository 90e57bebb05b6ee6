import { findBoxByType, parseBoxes, tfdt, tfhd, trun } from '@svta/common-media-library';
import { fragment, initSegment } from '../../src/packaging/fmp4';
import type { AudioTrack, Sample, VideoTrack } from '../../src/packaging/track';
import { Fmp4FormatError, Fmp4Reader } from '../../src/transcode/fmp4-reader';

// An AVCDecoderConfigurationRecord (High, level 3.1, one SPS and one PPS) and an AAC-LC 48 kHz stereo AudioSpecificConfig.
const AVCC = Buffer.from('0164001fffe1001967640 01facd9405005bb011000003001000003030f18319601000568ebecb22c'.replace(/ /g, ''), 'hex');
const video: VideoTrack = { kind: 'video', codec: 'h264', config: AVCC, codecString: 'avc1.64001f', width: 1280, height: 720, timescale: 90_000 };
const audio: AudioTrack = { kind: 'audio', codec: 'aac', config: Buffer.from([0x11, 0x90]), codecString: 'mp4a.40.2', sampleRate: 48_000, channels: 2, timescale: 48_000 };

const frames: Array<Sample & { duration: number }> = [
  { dts: 900_000, compositionOffset: 6000, keyframe: true, duration: 3000, data: Buffer.from('keyframe') },
  { dts: 903_000, compositionOffset: -3000, keyframe: false, duration: 3000, data: Buffer.from('b') },
  { dts: 906_000, compositionOffset: 3000, keyframe: false, duration: 3060, data: Buffer.from('p-frame') },
];

/** What the reader makes of our own output: a round trip through both halves of the format. */
function readBack(chunks: Buffer[], splitEvery?: number): { tracks: unknown[]; samples: Sample[] } {
  const tracks: unknown[] = [];
  const samples: Sample[] = [];
  const reader = new Fmp4Reader({ tracks: (t) => tracks.push(...t), sample: (_, s) => samples.push(s) });
  const bytes = Buffer.concat(chunks);
  const step = splitEvery ?? bytes.length;
  for (let at = 0; at < bytes.length; at += step) reader.push(bytes.subarray(at, at + step));
  return { tracks, samples };
}

describe('CMAF boxes', () => {
  test("a fragment as an independent parser reads it: a 64-bit decode time, each sample's duration, size, sync flag and signed composition offset", () => {
    const chunks = fragment(7, 900_000, frames, true);
    const bytes = Buffer.concat(chunks);
    const raw = new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length);
    const config = { parsers: { tfdt, tfhd, trun }, recursive: true };
    expect(
      parseBoxes(raw, config)
        .filter((b) => b.type === 'moof' || b.type === 'mdat')
        .map((b) => b.type),
    ).toEqual(['moof', 'mdat']);
    expect(findBoxByType(raw, 'tfdt', config)).toMatchObject({ version: 1, baseMediaDecodeTime: 900_000 });
    expect(findBoxByType(raw, 'tfhd', config)).toMatchObject({ trackId: 1, flags: 0x020000 });
    const run = findBoxByType(raw, 'trun', config) as unknown as { version: number; dataOffset: number; samples: Array<Record<string, number>> };
    expect(run.version).toBe(1);
    expect(run.samples).toEqual([
      { sampleDuration: 3000, sampleSize: 8, sampleFlags: 0x02000000, sampleCompositionTimeOffset: 6000 },
      { sampleDuration: 3000, sampleSize: 1, sampleFlags: 0x01010000, sampleCompositionTimeOffset: -3000 },
      { sampleDuration: 3060, sampleSize: 7, sampleFlags: 0x01010000, sampleCompositionTimeOffset: 3000 },
    ]);
    expect(bytes.subarray(run.dataOffset).toString()).toBe('keyframebp-frame');
    // The samples' bytes are handed on as they are, not copied into the box.
    expect(chunks.slice(1)).toEqual(frames.map((f) => f.data));
  });

  test('round trip: init segments and fragments read back into the same tracks and samples, whatever the chunking of the pipe', () => {
    const chunks = [initSegment(video), ...fragment(1, 900_000, frames.slice(0, 2), true), ...fragment(2, 906_000, frames.slice(2), true)];
    for (const split of [undefined, 1, 7, 100]) {
      const { tracks, samples } = readBack(chunks, split);
      expect(tracks).toEqual([video]);
      expect(samples).toEqual(frames.map(({ duration: _, ...sample }) => sample));
    }
    const audioBack = readBack([initSegment(audio), ...fragment(1, 48_000, [{ duration: 1024, compositionOffset: 0, keyframe: true, data: Buffer.from([1, 2, 3]) }], false)]);
    expect(audioBack.tracks).toEqual([audio]);
    expect(audioBack.samples).toEqual([{ dts: 48_000, compositionOffset: 0, keyframe: true, data: Buffer.from([1, 2, 3]) }]);
  });

  test("a decode time before zero (ffmpeg's AAC priming frame) is read as the negative number it is", () => {
    const chunks = [initSegment(audio), ...fragment(1, 0, [{ duration: 1024, compositionOffset: 0, keyframe: true, data: Buffer.from([9]) }], false)];
    const moof = chunks[1]!;
    moof.writeBigInt64BE(-1024n, moof.indexOf('tfdt') + 8);
    expect(readBack(chunks).samples.map((s) => s.dts)).toEqual([-1024]);
  });

  test('what is not fragmented MP4 is refused, not misread', () => {
    const reader = new Fmp4Reader({ tracks: () => undefined, sample: () => undefined });
    expect(() => reader.push(Buffer.from([0, 0, 0, 4, 0x6d, 0x6f, 0x6f, 0x66]))).toThrow(Fmp4FormatError);
    const orphan = new Fmp4Reader({ tracks: () => undefined, sample: () => undefined });
    expect(() => orphan.push(Buffer.concat(fragment(1, 0, frames, true)))).toThrow(/unknown track/);
  });
});
