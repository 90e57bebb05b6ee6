// What the decoder configuration records of HEVC and AV1 say (Enhanced RTMP sends them as they go
// into MP4: hvcC, av1C): the RFC 6381 codec string a master playlist names, and the picture size.
import { parseH265Sps } from 'node-media-server/src/protocol/sps_info.js';

const HEVC_SPS = 33;

/**
 * `hvc1.<profile>.<compatibility>.<tier><level>.<constraints>` from an HEVCDecoderConfigurationRecord
 * (ISO/IEC 14496-15, E.3): profile space as a letter, compatibility flags bit-reversed in hex,
 * constraint bytes in hex without trailing zero bytes.
 */
export function hevcCodecString(hvcc: Buffer): string | undefined {
  if (hvcc.length < 23) return undefined;
  const space = ['', 'A', 'B', 'C'][hvcc[1]! >> 6]!;
  const tier = (hvcc[1]! & 0x20) !== 0 ? 'H' : 'L';
  const profile = hvcc[1]! & 0x1f;
  let compatibility = 0;
  const flags = hvcc.readUInt32BE(2);
  for (let bit = 0; bit < 32; bit++) if (flags & (1 << bit)) compatibility |= 1 << (31 - bit);
  const constraints = [...hvcc.subarray(6, 12)];
  while (constraints.length > 0 && constraints.at(-1) === 0) constraints.pop();
  const level = hvcc[12]!;
  return [`hvc1.${space}${profile}`, (compatibility >>> 0).toString(16).toUpperCase(), `${tier}${level}`, ...constraints.map((b) => b.toString(16).toUpperCase())].join('.');
}

/** The picture size in an hvcC's first SPS. */
export function hevcSize(hvcc: Buffer): { width: number; height: number } | undefined {
  if (hvcc.length < 23) return undefined;
  let at = 23;
  for (let array = 0; array < hvcc[22]! && at + 3 <= hvcc.length; array++) {
    const type = hvcc[at]! & 0x3f;
    const count = hvcc.readUInt16BE(at + 1);
    at += 3;
    for (let i = 0; i < count && at + 2 <= hvcc.length; i++) {
      const length = hvcc.readUInt16BE(at);
      at += 2;
      if (type === HEVC_SPS && at + length <= hvcc.length) return parseH265Sps(hvcc.subarray(at, at + length)) ?? undefined;
      at += length;
    }
  }
  return undefined;
}

/** `av01.<profile>.<level><tier>.<bit depth>` from an AV1CodecConfigurationRecord (AV1 ISOBMFF binding, 2.3). */
export function av1CodecString(av1c: Buffer): string | undefined {
  if (av1c.length < 4 || av1c[0] !== 0x81) return undefined;
  const profile = av1c[1]! >> 5;
  const level = av1c[1]! & 0x1f;
  const tier = (av1c[2]! & 0x80) !== 0 ? 'H' : 'M';
  const depth = (av1c[2]! & 0x20) !== 0 ? 12 : (av1c[2]! & 0x40) !== 0 ? 10 : 8;
  return `av01.${profile}.${String(level).padStart(2, '0')}${tier}.${String(depth).padStart(2, '0')}`;
}

/** The picture size in the sequence header OBU an av1C carries after its four fixed bytes. */
export function av1Size(av1c: Buffer): { width: number; height: number } | undefined {
  const header = sequenceHeaderObu(av1c.subarray(4));
  return header && parseAv1SequenceHeader(header);
}

const OBU_SEQUENCE_HEADER = 1;
const OBU_TEMPORAL_DELIMITER = 2;

/**
 * An AV1 temporal unit as MP4 stores it: without temporal delimiter OBUs (AV1 ISOBMFF binding,
 * 2.4), which a publisher may leave in. Undefined when the OBUs cannot be walked.
 */
export function av1Sample(obus: Buffer): Buffer | undefined {
  const kept: Buffer[] = [];
  let at = 0;
  let dropped = false;
  while (at < obus.length) {
    const obu = obuAt(obus, at);
    if (!obu) return undefined;
    if (obu.type === OBU_TEMPORAL_DELIMITER) dropped = true;
    else kept.push(obus.subarray(at, obu.end));
    at = obu.end;
  }
  return dropped ? Buffer.concat(kept) : obus;
}

/** The OBU starting at `at`: its type, where its payload starts, where it ends. */
function obuAt(obus: Buffer, at: number): { type: number; payload: number; end: number } | undefined {
  const header = obus[at]!;
  const type = (header >> 3) & 0x0f;
  const extension = (header & 0x04) !== 0;
  const hasSize = (header & 0x02) !== 0;
  let payload = at + 1 + (extension ? 1 : 0);
  let size = obus.length - payload;
  if (hasSize) {
    const read = leb128(obus, payload);
    if (!read) return undefined;
    size = read.value;
    payload += read.bytes;
  }
  return payload + size > obus.length ? undefined : { type, payload, end: payload + size };
}

/** The payload of the first sequence header OBU in a run of OBUs (low-overhead format). */
function sequenceHeaderObu(obus: Buffer): Buffer | undefined {
  let at = 0;
  while (at < obus.length) {
    const obu = obuAt(obus, at);
    if (!obu) return undefined;
    if (obu.type === OBU_SEQUENCE_HEADER) return obus.subarray(obu.payload, obu.end);
    at = obu.end;
  }
  return undefined;
}

function leb128(bytes: Buffer, at: number): { value: number; bytes: number } | undefined {
  let value = 0;
  for (let i = 0; i < 8 && at + i < bytes.length; i++) {
    const byte = bytes[at + i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return { value, bytes: i + 1 };
  }
  return undefined;
}

class BitReader {
  private bit = 0;
  constructor(private readonly bytes: Buffer) {}

  read(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i++) {
      const byte = this.bytes[this.bit >> 3];
      if (byte === undefined) throw new RangeError('past the end');
      value = value * 2 + ((byte >> (7 - (this.bit & 7))) & 1);
      this.bit++;
    }
    return value;
  }

  /** AV1's uvlc(). */
  uvlc(): number {
    let zeros = 0;
    while (this.read(1) === 0) if (++zeros >= 32) return 2 ** 32 - 1;
    return zeros === 0 ? 0 : this.read(zeros) + 2 ** zeros - 1;
  }
}

/** The maximum frame size a sequence header declares (AV1 spec, 5.5.1), up to where it is. */
function parseAv1SequenceHeader(payload: Buffer): { width: number; height: number } | undefined {
  try {
    const r = new BitReader(payload);
    r.read(3); // seq_profile
    r.read(1); // still_picture
    const reduced = r.read(1) === 1;
    if (reduced) {
      r.read(5); // seq_level_idx[0]
    } else {
      let decoderModel = false;
      let bufferDelayBits = 0;
      if (r.read(1) === 1) {
        // timing_info
        r.read(32);
        r.read(32);
        if (r.read(1) === 1) r.uvlc();
        decoderModel = r.read(1) === 1;
        if (decoderModel) {
          bufferDelayBits = r.read(5) + 1;
          r.read(32);
          r.read(5);
          r.read(5);
        }
      }
      const initialDisplayDelay = r.read(1) === 1;
      const operatingPoints = r.read(5) + 1;
      for (let i = 0; i < operatingPoints; i++) {
        r.read(12); // operating_point_idc
        if (r.read(5) > 7) r.read(1); // seq_level_idx, seq_tier
        if (decoderModel && r.read(1) === 1) {
          r.read(bufferDelayBits);
          r.read(bufferDelayBits);
          r.read(1);
        }
        if (initialDisplayDelay && r.read(1) === 1) r.read(4);
      }
    }
    const widthBits = r.read(4) + 1;
    const heightBits = r.read(4) + 1;
    const width = r.read(widthBits) + 1;
    const height = r.read(heightBits) + 1;
    return { width, height };
  } catch {
    return undefined;
  }
}
