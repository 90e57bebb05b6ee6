// What FLV carries and what MPEG-TS wants differ for both codecs: H.264 comes as length-prefixed
// NAL units with the parameter sets in a separate record (AVCC), and must go out as Annex B (start
// codes, parameter sets in band); AAC comes as raw frames with a separate AudioSpecificConfig, and
// must go out with an ADTS header on every frame. Every length read from the publisher is checked:
// a malformed payload yields what could be read of it, never a read out of bounds.

const START_CODE = Buffer.from([0, 0, 0, 1]);
/** Access unit delimiter (primary_pic_type 7: any slice type); HLS asks for one per access unit. */
const ACCESS_UNIT_DELIMITER = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);
const NAL_SPS = 7;
const NAL_PPS = 8;
const NAL_AUD = 9;

export interface AvcConfig {
  /** Bytes of each NAL unit's length prefix (1, 2 or 4). */
  lengthSize: number;
  /** SPS and PPS, each with its start code, to put before every IDR frame. */
  parameterSets: Buffer;
}

/** An AVCDecoderConfigurationRecord (the FLV sequence header's payload), or undefined if unusable. */
export function parseAvcConfig(record: Buffer): AvcConfig | undefined {
  if (record.length < 7 || record[0] !== 1) return undefined;
  const lengthSize = (record[4]! & 0x03) + 1;
  if (lengthSize === 3) return undefined;
  const sets: Buffer[] = [];
  let at = 5;
  for (const countMask of [0x1f, 0xff]) {
    if (at >= record.length) return undefined;
    const count = record[at]! & countMask;
    at += 1;
    for (let i = 0; i < count; i++) {
      if (at + 2 > record.length) return undefined;
      const size = record.readUInt16BE(at);
      at += 2;
      if (at + size > record.length) return undefined;
      sets.push(START_CODE, record.subarray(at, at + size));
      at += size;
    }
  }
  if (sets.length === 0) return undefined;
  return { lengthSize, parameterSets: Buffer.concat(sets) };
}

/**
 * One access unit from AVCC to Annex B: a delimiter first, the parameter sets before a keyframe
 * that does not carry both of its own, and the publisher's own delimiters dropped. Returned as
 * parts (views of `data` and constants) for the transport packets to copy once.
 */
export function avccToAnnexB(data: Buffer, config: AvcConfig, keyframe: boolean): Buffer[] {
  const parts: Buffer[] = [ACCESS_UNIT_DELIMITER];
  let carriesSps = false;
  let carriesPps = false;
  const units: Buffer[] = [];
  let at = 0;
  while (at + config.lengthSize <= data.length) {
    const size = data.readUIntBE(at, config.lengthSize);
    at += config.lengthSize;
    if (size === 0) continue;
    if (at + size > data.length) break;
    const unit = data.subarray(at, at + size);
    at += size;
    const type = unit[0]! & 0x1f;
    if (type === NAL_AUD) continue;
    carriesSps ||= type === NAL_SPS;
    carriesPps ||= type === NAL_PPS;
    units.push(START_CODE, unit);
  }
  if (keyframe && !(carriesSps && carriesPps)) parts.push(config.parameterSets);
  parts.push(...units);
  return parts;
}

export interface AacConfig {
  /** MPEG-4 audio object type (2 = AAC LC). ADTS can say types 1 to 4. */
  objectType: number;
  sampleRateIndex: number;
  sampleRate: number;
  channelConfig: number;
}

const SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** An AudioSpecificConfig (the FLV AAC sequence header's payload), or undefined if ADTS cannot carry it. */
export function parseAacConfig(config: Buffer): AacConfig | undefined {
  if (config.length < 2) return undefined;
  const objectType = config[0]! >> 3;
  const sampleRateIndex = ((config[0]! & 0x07) << 1) | (config[1]! >> 7);
  const channelConfig = (config[1]! >> 3) & 0x0f;
  const sampleRate = SAMPLE_RATES[sampleRateIndex];
  // HE-AAC (5, 29) is signalled as its AAC LC core in ADTS; anything else outside 1–4 cannot be.
  const adtsType = objectType === 5 || objectType === 29 ? 2 : objectType;
  if (adtsType < 1 || adtsType > 4 || sampleRate === undefined || channelConfig > 7) return undefined;
  return { objectType: adtsType, sampleRateIndex, sampleRate, channelConfig };
}

/** Samples in one AAC frame. */
export const AAC_FRAME_SAMPLES = 1024;
const ADTS_HEADER_SIZE = 7;
const ADTS_MAX_FRAME = 0x1fff;

/** One raw AAC frame behind its ADTS header, as two parts; undefined when it is too long for one. */
export function adtsFrame(frame: Buffer, config: AacConfig): [Buffer, Buffer] | undefined {
  const length = ADTS_HEADER_SIZE + frame.length;
  if (length > ADTS_MAX_FRAME) return undefined;
  const out = Buffer.allocUnsafe(ADTS_HEADER_SIZE);
  out[0] = 0xff;
  out[1] = 0xf1; // MPEG-4, layer 0, no CRC
  out[2] = ((config.objectType - 1) << 6) | (config.sampleRateIndex << 2) | (config.channelConfig >> 2);
  out[3] = ((config.channelConfig & 0x03) << 6) | (length >> 11);
  out[4] = (length >> 3) & 0xff;
  out[5] = ((length & 0x07) << 5) | 0x1f; // buffer fullness 0x7ff: variable bitrate
  out[6] = 0xfc; // one raw data block
  return [out, frame];
}
