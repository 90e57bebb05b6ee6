import { execFileSync } from 'node:child_process';
import { adtsFrame as adtsParts, avccToAnnexB as annexBParts, parseAacConfig, parseAvcConfig, type AacConfig, type AvcConfig } from '../../src/transcode/bitstreams';

// Both return parts for the transport packets to copy once; joined here to compare bytes.
const avccToAnnexB = (...args: Parameters<typeof annexBParts>) => Buffer.concat(annexBParts(...args));
const adtsFrame = (...args: Parameters<typeof adtsParts>) => {
  const parts = adtsParts(...args);
  return parts && Buffer.concat(parts);
};

const SPS = Buffer.from([0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10]);
const PPS = Buffer.from([0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0]);
const IDR = Buffer.from([0x65, 0x88, 0x84, 0x00, 0x33, 0xff]);
const SLICE = Buffer.from([0x41, 0x9a, 0x24, 0x6c, 0x41]);
const SEI = Buffer.from([0x06, 0x05, 0x01, 0xaa, 0x80]);
/** The delimiter the origin writes: 00 00 00 01, NAL type 9, primary_pic_type 7. */
const OUR_AUD = Buffer.from([0x00, 0x00, 0x00, 0x01, 0x09, 0xf0]);

/** An AVCDecoderConfigurationRecord as an FLV sequence header carries it (ISO/IEC 14496-15 5.3.3.1). */
function avcRecord(lengthSizeMinusOne: number, sps: Buffer[] = [SPS], pps: Buffer[] = [PPS]): Buffer {
  const sized = (units: Buffer[]) => units.flatMap((unit) => [Buffer.from([unit.length >> 8, unit.length & 0xff]), unit]);
  return Buffer.concat([
    Buffer.from([0x01, 0x64, 0x00, 0x1f, 0xfc | lengthSizeMinusOne, 0xe0 | sps.length]),
    ...sized(sps),
    Buffer.from([pps.length]),
    ...sized(pps),
  ]);
}

/** Length-prefixed NAL units, as FLV video tags carry them. */
function avcc(units: Buffer[], lengthSize = 4): Buffer {
  return Buffer.concat(units.flatMap((unit) => [prefix(unit.length, lengthSize), unit]));
}

function prefix(length: number, lengthSize: number): Buffer {
  const bytes = Buffer.alloc(lengthSize);
  bytes.writeUIntBE(length, 0, lengthSize);
  return bytes;
}

const annexB = (...units: Buffer[]) => Buffer.concat(units.flatMap((unit) => [Buffer.from([0, 0, 0, 1]), unit]));

describe('parseAvcConfig: the parameter sets and NAL length size from an FLV sequence header', () => {
  test('a record with one SPS and one PPS and lengthSizeMinusOne 3 gives length size 4 and both sets with start codes', () => {
    const config = parseAvcConfig(avcRecord(3));
    expect(config?.lengthSize).toBe(4);
    expect(config?.parameterSets.toString('hex')).toBe(annexB(SPS, PPS).toString('hex'));
    expect(config?.parameterSets.subarray(0, 5).toString('hex')).toBe('0000000167');
  });

  test.each([
    [0, 1],
    [1, 2],
    [3, 4],
  ])('lengthSizeMinusOne %d gives length size %d', (minusOne, lengthSize) => {
    expect(parseAvcConfig(avcRecord(minusOne))?.lengthSize).toBe(lengthSize);
  });

  test('lengthSizeMinusOne 2, which ISO/IEC 14496-15 does not allow, is refused', () => {
    expect(parseAvcConfig(avcRecord(2))).toBeUndefined();
  });

  test('several SPS and PPS all come out, in record order', () => {
    const secondSps = Buffer.concat([SPS.subarray(0, 4), Buffer.from([0x01])]);
    const config = parseAvcConfig(avcRecord(3, [SPS, secondSps], [PPS, PPS.subarray(0, 3)]));
    expect(config?.parameterSets.toString('hex')).toBe(annexB(SPS, secondSps, PPS, PPS.subarray(0, 3)).toString('hex'));
  });

  test('every truncation of a record is refused without throwing', () => {
    const record = avcRecord(3);
    for (let length = 0; length < record.length; length++) {
      expect([length, parseAvcConfig(record.subarray(0, length))]).toEqual([length, undefined]);
    }
  });

  test.each([0, 2, 0xff])('configurationVersion %d is refused', (version) => {
    const record = avcRecord(3);
    record[0] = version;
    expect(parseAvcConfig(record)).toBeUndefined();
  });

  test('a record without parameter sets is refused: there is nothing to put before a keyframe', () => {
    expect(parseAvcConfig(avcRecord(3, [], []))).toBeUndefined();
  });
});

describe('avccToAnnexB: one access unit as MPEG-TS wants it', () => {
  const config = parseAvcConfig(avcRecord(3))!;

  test('a non-keyframe: our delimiter, then each NAL unit behind a 4-byte start code, in order', () => {
    expect(avccToAnnexB(avcc([SEI, SLICE]), config, false).toString('hex')).toBe(Buffer.concat([OUR_AUD, annexB(SEI, SLICE)]).toString('hex'));
  });

  test('a keyframe: delimiter, SPS, PPS, then the IDR slice', () => {
    expect(avccToAnnexB(avcc([IDR]), config, true).toString('hex')).toBe(Buffer.concat([OUR_AUD, annexB(SPS, PPS, IDR)]).toString('hex'));
  });

  test('a keyframe that carries its own SPS and PPS gets no second copy', () => {
    const ownSps = Buffer.concat([SPS.subarray(0, 4), Buffer.from([0x02])]);
    const ownPps = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
    expect(avccToAnnexB(avcc([ownSps, ownPps, IDR]), config, true).toString('hex')).toBe(Buffer.concat([OUR_AUD, annexB(ownSps, ownPps, IDR)]).toString('hex'));
  });

  test('a keyframe that carries only its SPS gets the record\'s parameter sets too: a decoder needs a PPS', () => {
    const ownSps = Buffer.concat([SPS.subarray(0, 4), Buffer.from([0x02])]);
    expect(avccToAnnexB(avcc([ownSps, IDR]), config, true).toString('hex')).toBe(Buffer.concat([OUR_AUD, annexB(SPS, PPS, ownSps, IDR)]).toString('hex'));
  });

  test("the publisher's own delimiters are dropped: exactly one, ours, starts the access unit", () => {
    const theirs = Buffer.from([0x09, 0x10]);
    expect(avccToAnnexB(avcc([theirs, SLICE, theirs]), config, false).toString('hex')).toBe(Buffer.concat([OUR_AUD, annexB(SLICE)]).toString('hex'));
  });

  test('the NAL type is the low five bits: nal_ref_idc does not hide a parameter set, and type 25 is not a delimiter', () => {
    const spsRef1 = Buffer.concat([Buffer.from([0x27]), SPS.subarray(1)]);
    const ppsRef1 = Buffer.concat([Buffer.from([0x28]), PPS.subarray(1)]);
    const unspecified = Buffer.from([0x19, 0x01, 0x02]);
    expect(avccToAnnexB(avcc([spsRef1, ppsRef1, unspecified, IDR]), config, true).toString('hex')).toBe(
      Buffer.concat([OUR_AUD, annexB(spsRef1, ppsRef1, unspecified, IDR)]).toString('hex'),
    );
  });

  test('a unit whose length runs past the end is dropped, and what came before it kept', () => {
    const data = Buffer.concat([avcc([SLICE]), prefix(100, 4), Buffer.from([0x41, 1, 2, 3, 4])]);
    expect(avccToAnnexB(data, config, false).toString('hex')).toBe(Buffer.concat([OUR_AUD, annexB(SLICE)]).toString('hex'));
  });

  test('a length prefix cut short at the end is ignored', () => {
    const data = Buffer.concat([avcc([SLICE]), Buffer.from([0x00, 0x00])]);
    expect(avccToAnnexB(data, config, false).toString('hex')).toBe(Buffer.concat([OUR_AUD, annexB(SLICE)]).toString('hex'));
  });

  test('a length of 2^32 - 1 is read as a length, not a negative number, and dropped', () => {
    const data = Buffer.concat([avcc([SLICE]), prefix(0xffffffff, 4), SLICE]);
    expect(avccToAnnexB(data, config, false).toString('hex')).toBe(Buffer.concat([OUR_AUD, annexB(SLICE)]).toString('hex'));
  });

  test('zero-length units are skipped and reading goes on past them', () => {
    const data = Buffer.concat([prefix(0, 4), avcc([SEI]), prefix(0, 4), avcc([IDR])]);
    expect(avccToAnnexB(data, config, true).toString('hex')).toBe(Buffer.concat([OUR_AUD, annexB(SPS, PPS, SEI, IDR)]).toString('hex'));
  });

  test('2-byte length prefixes, with a unit longer than 255 bytes', () => {
    const long = Buffer.concat([Buffer.from([0x65]), Buffer.alloc(300, 0x5a)]);
    const twoByte = parseAvcConfig(avcRecord(1))!;
    expect(avccToAnnexB(avcc([SEI, long], 2), twoByte, true).toString('hex')).toBe(Buffer.concat([OUR_AUD, annexB(SPS, PPS, SEI, long)]).toString('hex'));
  });

  test('1-byte length prefixes', () => {
    const oneByte = parseAvcConfig(avcRecord(0))!;
    expect(avccToAnnexB(avcc([SLICE, SEI], 1), oneByte, false).toString('hex')).toBe(Buffer.concat([OUR_AUD, annexB(SLICE, SEI)]).toString('hex'));
  });

  test('the parameter sets put before a keyframe are those of the config given', () => {
    const other: AvcConfig = { lengthSize: 4, parameterSets: annexB(Buffer.from([0x67, 0x42]), Buffer.from([0x68, 0x01])) };
    expect(avccToAnnexB(avcc([IDR]), other, true).toString('hex')).toBe(Buffer.concat([OUR_AUD, other.parameterSets, annexB(IDR)]).toString('hex'));
  });
});

describe('parseAacConfig: what ADTS needs from an AudioSpecificConfig', () => {
  test.each([
    ['AAC LC, 44.1 kHz, stereo', '12 10', { objectType: 2, sampleRateIndex: 4, sampleRate: 44100, channelConfig: 2 }],
    ['AAC LC, 48 kHz, stereo', '11 90', { objectType: 2, sampleRateIndex: 3, sampleRate: 48000, channelConfig: 2 }],
    ['AAC LC, 48 kHz, mono', '11 88', { objectType: 2, sampleRateIndex: 3, sampleRate: 48000, channelConfig: 1 }],
    ['AAC Main (type 1)', '0a 10', { objectType: 1, sampleRateIndex: 4, sampleRate: 44100, channelConfig: 2 }],
    ['AAC LTP (type 4)', '22 10', { objectType: 4, sampleRateIndex: 4, sampleRate: 44100, channelConfig: 2 }],
    ['the last rate index (12, 7350 Hz) and 7.1 channels', '16 38', { objectType: 2, sampleRateIndex: 12, sampleRate: 7350, channelConfig: 7 }],
    ['the first rate index (0, 96 kHz)', '10 10', { objectType: 2, sampleRateIndex: 0, sampleRate: 96000, channelConfig: 2 }],
  ])('%s (%s) is read field by field', (_name, hex, expected) => {
    expect(parseAacConfig(Buffer.from(hex.replaceAll(' ', ''), 'hex'))).toEqual(expected);
  });

  // HE-AAC's first sampling index is the AAC LC core's rate, which is what ADTS declares.
  test.each([
    ['HE-AAC (type 5), 24 kHz core, 48 kHz output', '2b 11 88 00', { objectType: 2, sampleRateIndex: 6, sampleRate: 24000, channelConfig: 2 }],
    ['HE-AAC v2 (type 29), 24 kHz core, mono core', 'eb 09 88 00', { objectType: 2, sampleRateIndex: 6, sampleRate: 24000, channelConfig: 1 }],
  ])('%s is signalled as its AAC LC core', (_name, hex, expected) => {
    expect(parseAacConfig(Buffer.from(hex.replaceAll(' ', ''), 'hex'))).toEqual(expected);
  });

  test.each([
    ['object type 0', '02 10'],
    ['object type 6 (AAC scalable)', '32 10'],
    ['object type 31 (escape)', 'fa 10'],
    ['sample-rate index 13', '16 90'],
    ['sample-rate index 14', '17 10'],
    ['sample-rate index 15 (explicit frequency)', '17 90'],
    ['channel configuration 8, past the 3 bits ADTS has', '12 40'],
    ['one byte', '12'],
    ['no bytes', ''],
  ])('%s (%s) is refused', (_name, hex) => {
    expect(parseAacConfig(Buffer.from(hex.replaceAll(' ', ''), 'hex'))).toBeUndefined();
  });
});

interface AdtsHeader {
  id: number;
  layer: number;
  protectionAbsent: number;
  profile: number;
  samplingIndex: number;
  channelConfig: number;
  frameLength: number;
  bufferFullness: number;
  rawDataBlocks: number;
}

/** ISO/IEC 13818-7 adts_fixed_header and adts_variable_header, field by field. */
function readAdtsHeader(bytes: Buffer): AdtsHeader {
  const bits = BigInt(`0x${bytes.subarray(0, 7).toString('hex')}`);
  const field = (offset: number, width: number) => Number((bits >> BigInt(56 - offset - width)) & ((1n << BigInt(width)) - 1n));
  if (field(0, 12) !== 0xfff) throw new Error('no syncword');
  return {
    id: field(12, 1),
    layer: field(13, 2),
    protectionAbsent: field(15, 1),
    profile: field(16, 2),
    samplingIndex: field(18, 4),
    channelConfig: field(23, 3),
    frameLength: field(30, 13),
    bufferFullness: field(43, 11),
    rawDataBlocks: field(54, 2),
  };
}

describe('adtsFrame: a raw AAC frame with its ADTS header', () => {
  const lc48Stereo: AacConfig = { objectType: 2, sampleRateIndex: 3, sampleRate: 48000, channelConfig: 2 };
  const frame = Buffer.from(Array.from({ length: 100 }, (_, i) => (i * 13 + 5) & 0xff));

  test('100 bytes of AAC LC, 48 kHz, stereo: header FF F1 4C 80 0D 7F FC, then the frame unchanged', () => {
    const out = adtsFrame(frame, lc48Stereo)!;
    expect(out.subarray(0, 7).toString('hex')).toBe('fff14c800d7ffc');
    expect(out.subarray(7).equals(frame)).toBe(true);
  });

  test('the same at 44.1 kHz: header FF F1 50 80 0D 7F FC', () => {
    const out = adtsFrame(frame, { objectType: 2, sampleRateIndex: 4, sampleRate: 44100, channelConfig: 2 })!;
    expect(out.subarray(0, 7).toString('hex')).toBe('fff150800d7ffc');
  });

  test('each header field holds what the config and the frame length say', () => {
    const config: AacConfig = { objectType: 1, sampleRateIndex: 11, sampleRate: 8000, channelConfig: 7 };
    const out = adtsFrame(Buffer.alloc(1500, 0x11), config)!;
    expect(readAdtsHeader(out)).toEqual({
      id: 0, // MPEG-4
      layer: 0,
      protectionAbsent: 1,
      profile: 0, // object type 1 (AAC Main)
      samplingIndex: 11,
      channelConfig: 7,
      frameLength: 1507,
      bufferFullness: 0x7ff,
      rawDataBlocks: 0,
    });
  });

  test('the longest frame ADTS can say (8184 bytes, 8191 with the header) fits; one byte more does not', () => {
    const longest = adtsFrame(Buffer.alloc(8191 - 7, 0x22), lc48Stereo)!;
    expect(longest.length).toBe(8191);
    expect(readAdtsHeader(longest).frameLength).toBe(8191);
    expect(adtsFrame(Buffer.alloc(8191 - 7 + 1), lc48Stereo)).toBeUndefined();
  });

  test("re-wrapping the raw frames of ffmpeg's ADTS output gives back ffmpeg's bytes exactly", () => {
    const adts = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '0.5', '-ac', '2', '-c:a', 'aac', '-f', 'adts', 'pipe:1']);
    const config = parseAacConfig(Buffer.from([0x11, 0x90]))!;
    const rewrapped: Buffer[] = [];
    for (let at = 0; at < adts.length; ) {
      const header = readAdtsHeader(adts.subarray(at));
      expect(header.protectionAbsent).toBe(1);
      rewrapped.push(adtsFrame(adts.subarray(at + 7, at + header.frameLength), config)!);
      at += header.frameLength;
    }
    expect(rewrapped.length).toBeGreaterThan(20);
    expect(Buffer.concat(rewrapped).equals(adts)).toBe(true);
  });
});
