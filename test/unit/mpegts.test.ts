import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adtsFrame, parseAacConfig } from '../../src/transcode/bitstreams';
import { TS_PACKET_SIZE, TsWriter, crc32Mpeg, type ElementaryKind, type PesOptions } from '../../src/transcode/mpegts';

// The checks read the writer's output the way a demuxer does (ISO/IEC 13818-1), field by field:
// nothing below re-computes the writer's own arithmetic. Anything the origin never writes (errors,
// scrambling, other adaptation flags, a packet without payload) fails the parse.

interface Adaptation {
  randomAccess: boolean;
  pcr?: { base: number; extension: number };
  /** Bytes of the field that carry nothing and could have carried payload. */
  stuffing: number;
}

interface TsPacket {
  pid: number;
  unitStart: boolean;
  continuity: number;
  adaptation?: Adaptation;
  payload: Buffer;
}

function parsePacket(packet: Buffer): TsPacket {
  if (packet.readUInt8(0) !== 0x47) throw new Error(`sync byte ${packet.readUInt8(0)}`);
  const b1 = packet.readUInt8(1);
  const b3 = packet.readUInt8(3);
  if (b1 & 0x80) throw new Error('transport_error_indicator set');
  if (b3 & 0xc0) throw new Error('transport_scrambling_control set');
  const control = (b3 >> 4) & 0x03;
  if (!(control & 0x01)) throw new Error(`adaptation_field_control ${control}: no payload`);
  let payloadStart = 4;
  let adaptation: Adaptation | undefined;
  if (control & 0x02) {
    const length = packet.readUInt8(4);
    // With a payload the field may take at most 182 bytes after its length byte.
    if (length > 182) throw new Error(`adaptation_field_length ${length}`);
    adaptation = parseAdaptation(packet.subarray(5, 5 + length));
    payloadStart = 5 + length;
  }
  return { pid: ((b1 & 0x1f) << 8) | packet.readUInt8(2), unitStart: (b1 & 0x40) !== 0, continuity: b3 & 0x0f, adaptation, payload: packet.subarray(payloadStart) };
}

/** The adaptation field after its length byte. */
function parseAdaptation(field: Buffer): Adaptation {
  if (field.length === 0) return { randomAccess: false, stuffing: 1 };
  const flags = field.readUInt8(0);
  if (flags & ~0x50) throw new Error(`adaptation flags ${flags.toString(2)}`);
  let at = 1;
  let pcr: Adaptation['pcr'];
  if (flags & 0x10) {
    const last = field.readUInt8(5);
    if (((last >> 1) & 0x3f) !== 0x3f) throw new Error('PCR reserved bits are not all ones');
    pcr = { base: field.readUInt32BE(1) * 2 + (last >> 7), extension: ((last & 0x01) << 8) | field.readUInt8(6) };
    at = 7;
  }
  for (let i = at; i < field.length; i++) if (field[i] !== 0xff) throw new Error(`stuffing byte ${field[i]}`);
  const used = flags === 0 ? 0 : at + 1;
  return { randomAccess: (flags & 0x40) !== 0, pcr, stuffing: field.length + 1 - used };
}

function parsePackets(stream: Buffer): TsPacket[] {
  if (stream.length % 188 !== 0) throw new Error(`${stream.length} bytes is not a whole number of packets`);
  const packets: TsPacket[] = [];
  for (let at = 0; at < stream.length; at += 188) packets.push(parsePacket(stream.subarray(at, at + 188)));
  return packets;
}

interface Pes {
  streamId: number;
  packetLength: number;
  ptsDtsFlags: number;
  pts?: number;
  dts?: number;
  payload: Buffer;
}

function parsePes(pes: Buffer): Pes {
  if (pes.readUIntBE(0, 3) !== 1) throw new Error('no packet_start_code_prefix');
  if (pes.readUInt8(6) >> 6 !== 0b10) throw new Error("optional header does not start with '10'");
  const flags = pes.readUInt8(7);
  if (flags & 0x3f) throw new Error(`optional fields other than PTS/DTS: ${flags.toString(2)}`);
  const ptsDtsFlags = flags >> 6;
  if (ptsDtsFlags === 0b01) throw new Error('PTS_DTS_flags 01 is forbidden');
  return {
    streamId: pes.readUInt8(3),
    packetLength: pes.readUInt16BE(4),
    ptsDtsFlags,
    pts: ptsDtsFlags & 0b10 ? readTimestamp(pes, 9, ptsDtsFlags) : undefined,
    dts: ptsDtsFlags === 0b11 ? readTimestamp(pes, 14, 0b01) : undefined,
    payload: pes.subarray(9 + pes.readUInt8(8)),
  };
}

function readTimestamp(pes: Buffer, at: number, prefix: number): number {
  const bytes = [...pes.subarray(at, at + 5)] as [number, number, number, number, number];
  if (bytes[0] >> 4 !== prefix) throw new Error(`timestamp prefix ${bytes[0] >> 4}, expected ${prefix}`);
  if (!(bytes[0] & bytes[2] & bytes[4] & 0x01)) throw new Error('timestamp marker bit missing');
  return ((bytes[0] >> 1) & 0x07) * 2 ** 30 + ((bytes[1] << 22) | ((bytes[2] >> 1) << 15) | (bytes[3] << 7) | (bytes[4] >> 1));
}

interface Section {
  tableId: number;
  /** transport_stream_id in a PAT, program_number in a PMT. */
  tableIdExtension: number;
  /** From table_id to the CRC, both included. */
  whole: Buffer;
  /** What follows last_section_number, up to the CRC. */
  body: Buffer;
}

/** The one section a PSI packet starts, with the packet's remaining bytes checked to be stuffing. */
function readSection(packet: TsPacket): Section {
  if (packet.payload.readUInt8(0) !== 0) throw new Error('pointer_field is not 0');
  const section = packet.payload.subarray(1);
  if ((section.readUInt8(1) & 0xf0) !== 0xb0) throw new Error("section_syntax_indicator, '0', reserved are not 1011");
  const whole = section.subarray(0, 3 + (section.readUInt16BE(1) & 0x0fff));
  if (section.subarray(whole.length).some((byte) => byte !== 0xff)) throw new Error('bytes after the section are not stuffing');
  if ((whole.readUInt8(5) & 0x01) !== 1) throw new Error('current_next_indicator is 0');
  if (whole.readUInt8(6) !== 0 || whole.readUInt8(7) !== 0) throw new Error('more than one section');
  return { tableId: whole.readUInt8(0), tableIdExtension: whole.readUInt16BE(3), whole, body: whole.subarray(8, whole.length - 4) };
}

const patterned = (size: number) => Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + 7) & 0xff));

describe('crc32Mpeg: the CRC that PSI sections end with', () => {
  test('gives the CRC-32/MPEG-2 check value 0x0376E6E7 for the ASCII bytes "123456789"', () => {
    expect(crc32Mpeg(Buffer.from('123456789', 'ascii'))).toBe(0x0376e6e7);
  });
});

describe('TsWriter.tables: a PAT and a PMT that make each segment playable on its own', () => {
  test.each([
    ['h264', 0x1b],
    ['aac', 0x0f],
  ] as const)('%s: the PAT maps program 1 to PID 0x1000; the PMT puts the PCR and one stream of type %d on PID 0x100', (kind, streamType) => {
    const packets = parsePackets(new TsWriter(kind).tables());
    expect(packets.map((p) => [p.pid, p.unitStart, p.adaptation])).toEqual([
      [0x0000, true, undefined],
      [0x1000, true, undefined],
    ]);
    const pat = readSection(packets[0]!);
    expect(pat.tableId).toBe(0x00);
    expect(pat.body.length % 4).toBe(0);
    const programs = Array.from({ length: pat.body.length / 4 }, (_, i) => [pat.body.readUInt16BE(i * 4), pat.body.readUInt16BE(i * 4 + 2) & 0x1fff]);
    expect(programs).toEqual([[1, 0x1000]]);

    const pmt = readSection(packets[1]!);
    expect(pmt.tableId).toBe(0x02);
    expect(pmt.tableIdExtension).toBe(1);
    expect(pmt.body.readUInt16BE(0) & 0x1fff).toBe(0x100);
    const programInfoLength = pmt.body.readUInt16BE(2) & 0x0fff;
    const streams: number[][] = [];
    for (let at = 4 + programInfoLength; at < pmt.body.length; at += 5 + (pmt.body.readUInt16BE(at + 3) & 0x0fff)) {
      streams.push([pmt.body.readUInt8(at), pmt.body.readUInt16BE(at + 1) & 0x1fff]);
    }
    expect(streams).toEqual([[streamType, 0x100]]);
  });

  test.each(['h264', 'aac'] as const)('%s: each section ends with a CRC over which crc32Mpeg of the whole section gives 0', (kind) => {
    for (const packet of parsePackets(new TsWriter(kind).tables())) {
      const { whole } = readSection(packet);
      expect(crc32Mpeg(whole)).toBe(0);
      expect(whole.readUInt32BE(whole.length - 4)).toBe(crc32Mpeg(whole.subarray(0, whole.length - 4)));
    }
  });

  test('PAT and PMT continuity counters advance with each call, independently of the elementary stream', () => {
    const writer = new TsWriter('h264');
    const first = parsePackets(writer.tables());
    writer.pes(patterned(1000), { pts: 0, randomAccess: true });
    const second = parsePackets(writer.tables());
    expect(first.map((p) => p.continuity)).toEqual([0, 0]);
    expect(second.map((p) => p.continuity)).toEqual([1, 1]);
  });
});

/** Every property one PES must have, read back from the packets the writer cut it into. */
function expectPes(kind: ElementaryKind, payload: Buffer, options: PesOptions, output: Buffer): void {
  expect(output.length % 188).toBe(0);
  const packets = parsePackets(output);
  expect(packets.every((p) => p.pid === 0x100)).toBe(true);
  expect(packets.map((p) => p.unitStart)).toEqual(packets.map((_, i) => i === 0));
  expect(packets.map((p) => p.continuity)).toEqual(packets.map((_, i) => i % 16));
  // Stuffing belongs in the last packet only: a PES takes no more packets than it needs.
  expect(packets.slice(0, -1).map((p) => p.adaptation?.stuffing ?? 0)).toEqual(packets.slice(0, -1).map(() => 0));

  const [first, ...rest] = packets;
  expect(first!.adaptation?.randomAccess ?? false).toBe(options.randomAccess);
  expect(first!.adaptation?.pcr).toEqual(options.pcr === undefined ? undefined : { base: options.pcr % 2 ** 33, extension: 0 });
  expect(rest.filter((p) => p.adaptation?.randomAccess || p.adaptation?.pcr)).toEqual([]);

  const pes = Buffer.concat(packets.map((p) => p.payload));
  const parsed = parsePes(pes);
  expect(parsed.streamId).toBe(kind === 'h264' ? 0xe0 : 0xc0);
  // Video may say 0 (unbounded); audio must give the bytes that follow the length field.
  expect(parsed.packetLength).toBe(kind === 'h264' ? 0 : pes.length - 6);
  expect(parsed.pts).toBe(options.pts % 2 ** 33);
  const withDts = options.dts !== undefined && options.dts !== options.pts;
  expect(parsed.ptsDtsFlags).toBe(withDts ? 0b11 : 0b10);
  expect(parsed.dts).toBe(withDts ? options.dts! % 2 ** 33 : undefined);
  expect(parsed.payload.equals(payload)).toBe(true);
}

describe('TsWriter.pes: one PES cut into 188-byte packets on PID 0x100', () => {
  const variants: Array<[string, ElementaryKind, PesOptions]> = [
    ['h264 non-keyframe, PTS only', 'h264', { pts: 900_000, randomAccess: false }],
    ['h264 keyframe with DTS and PCR past 2^32', 'h264', { pts: 2 ** 32 + 12_345, dts: 2 ** 32 + 9342, pcr: 2 ** 32 + 6339, randomAccess: true }],
    ['h264 non-keyframe with PCR', 'h264', { pts: 3003, dts: 0, pcr: 0, randomAccess: false }],
    ['aac, random access, no PCR', 'aac', { pts: 123_456, randomAccess: true }],
  ];
  // Around 184 - header and 184 - header - adaptation: a packet filled exactly, one byte short
  // (a length-only adaptation field), one byte over; and the same at the second packet's end.
  const sizes = [1, 150, 157, 158, 161, 162, 167, 168, 169, 170, 171, 183, 184, 353, 354, 355, 2000];
  const cases = variants.flatMap(([name, kind, options]) => sizes.map((size) => [size, name, kind, options] as const));

  test.each(cases)('%d-byte payload, %s: packets, flags, counters, timestamps and the payload itself read back', (size, _name, kind, options) => {
    const payload = patterned(size);
    expectPes(kind, payload, options, new TsWriter(kind).pes(payload, options));
  });

  test('a video access unit longer than a PES length can say (65635 bytes) reads back whole', () => {
    const payload = patterned(65_535 + 100);
    const options = { pts: 180_000, dts: 177_000, pcr: 170_000, randomAccess: true };
    expectPes('h264', payload, options, new TsWriter('h264').pes(payload, options));
  });

  test('continuity counters run on, modulo 16, across successive PES', () => {
    const writer = new TsWriter('h264');
    const output = Buffer.concat([2000, 1, 500, 3000, 184].map((size, i) => writer.pes(patterned(size), { pts: i * 3003, randomAccess: i === 0 })));
    const counters = parsePackets(output).map((p) => p.continuity);
    expect(counters.length).toBeGreaterThan(32);
    expect(counters).toEqual(counters.map((_, i) => i % 16));
  });

  test.each([
    ['zero', 0, undefined, 0, undefined],
    ['past 2^32', 2 ** 32 + 12_345, 2 ** 32 + 9342, 2 ** 32 + 12_345, 2 ** 32 + 9342],
    ['every bit set', 2 ** 33 - 1, 0x1_5555_5555, 2 ** 33 - 1, 0x1_5555_5555],
    ['past 2^33, wrapped', 2 ** 33 + 500, 2 ** 33 - 100, 500, 2 ** 33 - 100],
    ['a negative DTS, wrapped', 3003, -3003, 3003, 2 ** 33 - 3003],
  ])('timestamps %s: PTS and DTS decode to the 33-bit values', (_name, pts, dts, expectedPts, expectedDts) => {
    const pes = parsePes(Buffer.concat(parsePackets(new TsWriter('h264').pes(patterned(10), { pts, dts, randomAccess: false })).map((p) => p.payload)));
    expect([pes.pts, pes.dts]).toEqual([expectedPts, expectedDts]);
  });

  test('a DTS equal to the PTS is left out: PTS_DTS_flags 10 and a 5-byte optional header', () => {
    const pes = Buffer.concat(parsePackets(new TsWriter('h264').pes(patterned(10), { pts: 5000, dts: 5000, randomAccess: true })).map((p) => p.payload));
    expect(pes.readUInt8(7) >> 6).toBe(0b10);
    expect(pes.readUInt8(8)).toBe(5);
    expect(parsePes(pes).pts).toBe(5000);
  });

  test.each([
    [0, 0],
    [2 ** 32 + 12_345, 2 ** 32 + 12_345],
    [2 ** 33 - 1, 2 ** 33 - 1],
    [2 ** 33 + 7, 7],
  ])('PCR %d: the first packet carries base %d at 27 MHz with extension 0', (pcr, base) => {
    const [first] = parsePackets(new TsWriter('aac').pes(patterned(300), { pts: pcr + 900, pcr, randomAccess: false }));
    expect(first!.adaptation?.randomAccess).toBe(false);
    expect(first!.adaptation?.pcr).toEqual({ base, extension: 0 });
  });
});

describe('TsWriter output as ffprobe reads it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-mpegts-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Raw AAC frames from ffmpeg's own ADTS stream. */
  function encodedAacFrames(): Buffer[] {
    const adts = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '1', '-ac', '2', '-c:a', 'aac', '-f', 'adts', 'pipe:1']);
    const frames: Buffer[] = [];
    for (let at = 0; at < adts.length; ) {
      if ((adts.readUInt16BE(at) & 0xfff7) !== 0xfff1) throw new Error(`no 7-byte ADTS header at ${at}`);
      const length = ((adts.readUInt8(at + 3) & 0x03) << 11) | (adts.readUInt8(at + 4) << 3) | (adts.readUInt8(at + 5) >> 5);
      frames.push(adts.subarray(at + 7, at + length));
      at += length;
    }
    return frames;
  }

  test('AAC frames wrapped by adtsFrame, five to a PES: aac at 48000 Hz, stereo, starting at the PTS given, every frame decoded', () => {
    const config = parseAacConfig(Buffer.from([0x11, 0x90]))!;
    const frames = encodedAacFrames();
    expect(frames.length).toBeGreaterThan(40);
    const writer = new TsWriter('aac');
    const start = 10 * 90_000;
    const ticksPerFrame = (1024 * 90_000) / 48_000;
    const chunks = [writer.tables()];
    for (let i = 0; i < frames.length; i += 5) {
      const payload = Buffer.concat(frames.slice(i, i + 5).flatMap((frame) => adtsFrame(frame, config)!));
      const pts = start + i * ticksPerFrame;
      chunks.push(writer.pes(payload, { pts, pcr: pts, randomAccess: true }));
    }
    const file = path.join(dir, 'audio.ts');
    fs.writeFileSync(file, Buffer.concat(chunks));

    const probe = spawnSync('ffprobe', ['-v', 'warning', '-of', 'json', '-count_frames', '-show_streams', file], { encoding: 'utf8' });
    expect(probe.stderr).toBe('');
    const [stream, ...others] = (JSON.parse(probe.stdout) as { streams: Array<Record<string, unknown>> }).streams;
    expect(others).toEqual([]);
    expect(stream).toMatchObject({ codec_name: 'aac', sample_rate: '48000', channels: 2, start_time: '10.000000', nb_read_frames: String(frames.length) });
  });
});

describe('TsWriter.pes with the payload in parts, written in place', () => {
  test('the same packets as the payload given whole, for parts that split anywhere (empty ones included)', () => {
    const payload = patterned(5000);
    const cuts = [0, 0, 1, 183, 184, 185, 2000, 2000, 4999, 5000];
    const parts = cuts.slice(1).map((end, i) => payload.subarray(cuts[i], end));
    const options = { pts: 900_000, dts: 897_000, pcr: 800_000, randomAccess: true };
    expect(new TsWriter('h264').pes(parts, options).equals(new TsWriter('h264').pes(payload, options))).toBe(true);
  });

  test('written into the view a placement hands out, nowhere else', () => {
    const block = Buffer.alloc(4 * TS_PACKET_SIZE, 0xaa);
    const views: Array<[number, number]> = [];
    const written = new TsWriter('aac').pes([patterned(200), patterned(100)], { pts: 0, randomAccess: true }, (bytes) => {
      views.push([TS_PACKET_SIZE, bytes]);
      return block.subarray(TS_PACKET_SIZE, TS_PACKET_SIZE + bytes);
    });
    expect(views).toEqual([[TS_PACKET_SIZE, 2 * TS_PACKET_SIZE]]);
    expect(written.equals(block.subarray(TS_PACKET_SIZE, 3 * TS_PACKET_SIZE))).toBe(true);
    expect(block.subarray(0, TS_PACKET_SIZE).every((b) => b === 0xaa)).toBe(true);
    expect(block.subarray(3 * TS_PACKET_SIZE).every((b) => b === 0xaa)).toBe(true);
    expect(block[TS_PACKET_SIZE]).toBe(0x47);
  });
});
