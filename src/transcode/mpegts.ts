// MPEG-TS (ISO/IEC 13818-1) for HLS segments that carry one elementary stream each, the way the
// origin lays renditions out: a video rendition's segments hold H.264 only, an audio rendition's
// AAC only. Enough of the standard for that and nothing more: PAT, PMT, PES with PTS/DTS, PCR.

export const TS_PACKET_SIZE = 188;
const PAYLOAD_SIZE = TS_PACKET_SIZE - 4;
const PAT_PID = 0x0000;
export const PMT_PID = 0x1000;
/** The PIDs ffmpeg's muxer gives a program's first streams; players expect nothing in particular. */
export const ELEMENTARY_PID = 0x0100;
/** 90 kHz: PTS, DTS and the PCR base are counted in it. */
export const TS_CLOCK_HZ = 90_000;
const TIMESTAMP_WRAP = 2 ** 33;

export type ElementaryKind = 'h264' | 'aac';

const STREAM_TYPE: Record<ElementaryKind, number> = { h264: 0x1b, aac: 0x0f };
const STREAM_ID: Record<ElementaryKind, number> = { h264: 0xe0, aac: 0xc0 };

export interface PesOptions {
  /** In 90 kHz ticks. */
  pts: number;
  /** In 90 kHz ticks; omitted when it equals the PTS. */
  dts?: number;
  /** Program clock reference (90 kHz base), carried in the first packet. */
  pcr?: number;
  /** A decoder can start here (an IDR frame, or any audio frame). */
  randomAccess: boolean;
}

/** Room for `bytes` bytes of packets: a buffer of exactly that length, to be filled. */
export type Placement = (bytes: number) => Buffer;

const newBuffer: Placement = (bytes) => Buffer.allocUnsafe(bytes);

/**
 * Packets for one program with one elementary stream on ELEMENTARY_PID, which also carries the
 * PCR. Continuity counters run on across calls, so one writer serves a whole run of segments.
 */
export class TsWriter {
  private readonly continuity = new Map<number, number>();
  private readonly pat: Buffer;
  private readonly pmt: Buffer;

  constructor(readonly kind: ElementaryKind) {
    this.pat = psiSection([0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff]);
    this.pmt = psiSection([
      0x02, 0xb0, 0x12, 0x00, 0x01, 0xc1, 0x00, 0x00,
      0xe0 | (ELEMENTARY_PID >> 8), ELEMENTARY_PID & 0xff, // PCR PID
      0xf0, 0x00, // no program descriptors
      STREAM_TYPE[kind], 0xe0 | (ELEMENTARY_PID >> 8), ELEMENTARY_PID & 0xff, 0xf0, 0x00,
    ]);
  }

  /** PAT then PMT: every segment begins with them, so that it can be played on its own. */
  tables(): Buffer {
    const out = Buffer.alloc(TS_PACKET_SIZE * 2, 0xff);
    this.psiPacket(out, 0, PAT_PID, this.pat);
    this.psiPacket(out, TS_PACKET_SIZE, PMT_PID, this.pmt);
    return out;
  }

  /**
   * One access unit (or several audio frames), given whole or in parts, as a PES packet cut into
   * transport packets: written where `place` says (a new buffer by default), and returned.
   */
  pes(payload: Buffer | readonly Buffer[], options: PesOptions, place: Placement = newBuffer): Buffer {
    const parts = Buffer.isBuffer(payload) ? [payload] : payload;
    let payloadLength = 0;
    for (const part of parts) payloadLength += part.length;
    const headerLength = pesHeaderLength(options);
    const total = headerLength + payloadLength;
    const firstAdaptation = options.pcr !== undefined ? 8 : options.randomAccess ? 2 : 0;
    const firstCapacity = PAYLOAD_SIZE - firstAdaptation;
    const packets = 1 + Math.ceil(Math.max(0, total - firstCapacity) / PAYLOAD_SIZE);
    const out = place(packets * TS_PACKET_SIZE);
    // The PES goes in one piece at the end of `out`, then each packet's share moves down to where
    // it belongs. Copying a part of a buffer (Buffer#copy with bounds) allocates a view per call:
    // per transport packet, that was half of what the origin allocated (docs/benchmarks.md,
    // section 4). Whole copies and copyWithin allocate nothing. A share never moves onto bytes
    // not yet moved: every packet holds at most its share plus its own header.
    let from = out.length - total;
    writePesHeader(out, from, this.kind, headerLength, payloadLength, options);
    let cursor = from + headerLength;
    for (const part of parts) cursor += part.copy(out, cursor);
    for (let i = 0; i < packets; i++) {
      const at = i * TS_PACKET_SIZE;
      const first = i === 0;
      const fixedAdaptation = first ? firstAdaptation : 0;
      const room = PAYLOAD_SIZE - fixedAdaptation;
      const take = Math.min(room, out.length - from);
      // The last packet is filled up with adaptation-field stuffing: payload must end the packet.
      const adaptation = fixedAdaptation + (room - take);
      out.copyWithin(at + TS_PACKET_SIZE - take, from, from + take);
      from += take;
      out[at] = 0x47;
      out[at + 1] = (first ? 0x40 : 0) | (ELEMENTARY_PID >> 8);
      out[at + 2] = ELEMENTARY_PID & 0xff;
      out[at + 3] = (adaptation > 0 ? 0x30 : 0x10) | this.nextCounter(ELEMENTARY_PID);
      if (adaptation > 0) writeAdaptation(out, at + 4, adaptation, first ? options : undefined);
    }
    return out;
  }

  private psiPacket(out: Buffer, at: number, pid: number, section: Buffer): void {
    out[at] = 0x47;
    out[at + 1] = 0x40 | (pid >> 8);
    out[at + 2] = pid & 0xff;
    out[at + 3] = 0x10 | this.nextCounter(pid);
    out[at + 4] = 0; // pointer field
    section.copy(out, at + 5);
  }

  private nextCounter(pid: number): number {
    const counter = this.continuity.get(pid) ?? 0;
    this.continuity.set(pid, (counter + 1) & 0x0f);
    return counter;
  }
}

/**
 * `length` bytes of adaptation field at `at` (the length byte included). With options, the first
 * packet's flags: random access, and the PCR.
 */
function writeAdaptation(out: Buffer, at: number, length: number, options: PesOptions | undefined): void {
  out[at] = length - 1;
  if (length === 1) return;
  let cursor = at + 2;
  let flags = 0;
  if (options?.randomAccess) flags |= 0x40;
  if (options?.pcr !== undefined) {
    flags |= 0x10;
    const base = wrap(options.pcr);
    // 33-bit base, 6 reserved bits, 9-bit extension (0).
    out[cursor] = Math.floor(base / 2 ** 25) & 0xff;
    out[cursor + 1] = Math.floor(base / 2 ** 17) & 0xff;
    out[cursor + 2] = Math.floor(base / 2 ** 9) & 0xff;
    out[cursor + 3] = Math.floor(base / 2) & 0xff;
    out[cursor + 4] = ((base % 2) << 7) | 0x7e;
    out[cursor + 5] = 0;
    cursor += 6;
  }
  out[at + 1] = flags;
  out.fill(0xff, cursor, at + length);
}

/** A PES header's length: with a DTS when it differs from the PTS. */
function pesHeaderLength(options: PesOptions): number {
  return options.dts !== undefined && wrap(options.dts) !== wrap(options.pts) ? 19 : 14;
}

function writePesHeader(out: Buffer, at: number, kind: ElementaryKind, headerLength: number, payloadLength: number, options: PesOptions): void {
  const withDts = headerLength === 19;
  const dataLength = headerLength - 9;
  out[at] = 0;
  out[at + 1] = 0;
  out[at + 2] = 1;
  out[at + 3] = STREAM_ID[kind];
  const length = 3 + dataLength + payloadLength;
  // Video PES may be longer than the field can say: 0 means "unbounded", allowed for video only.
  out.writeUInt16BE(kind === 'h264' || length > 0xffff ? 0 : length, at + 4);
  out[at + 6] = kind === 'h264' ? 0x84 : 0x80; // '10', data alignment for video
  out[at + 7] = withDts ? 0xc0 : 0x80;
  out[at + 8] = dataLength;
  writeTimestamp(out, at + 9, withDts ? 0x3 : 0x2, options.pts);
  if (withDts) writeTimestamp(out, at + 14, 0x1, options.dts!);
}

function writeTimestamp(out: Buffer, at: number, prefix: number, ticks: number): void {
  const value = wrap(ticks);
  out[at] = (prefix << 4) | ((Math.floor(value / 2 ** 30) & 0x07) << 1) | 1;
  const low30 = value % 2 ** 30;
  out[at + 1] = (low30 >>> 22) & 0xff;
  out[at + 2] = (((low30 >>> 15) & 0x7f) << 1) | 1;
  out[at + 3] = (low30 >>> 7) & 0xff;
  out[at + 4] = ((low30 & 0x7f) << 1) | 1;
}

function wrap(ticks: number): number {
  return ((Math.round(ticks) % TIMESTAMP_WRAP) + TIMESTAMP_WRAP) % TIMESTAMP_WRAP;
}

/** A PSI section with its CRC, padded to fill the rest of its packet. */
function psiSection(bytes: number[]): Buffer {
  const section = Buffer.alloc(PAYLOAD_SIZE - 1, 0xff);
  Buffer.from(bytes).copy(section);
  section.writeUInt32BE(crc32Mpeg(section.subarray(0, bytes.length)), bytes.length);
  return section;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
    table[i] = crc >>> 0;
  }
  return table;
})();

/** CRC-32/MPEG-2: what PSI sections end with. */
export function crc32Mpeg(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  return crc >>> 0;
}
