import AVPacket = require('node-media-server/src/core/avpacket.js');
import { flvTag } from '../../src/ingest/media';

// node-media-server's own FLV writer (zero-filled, one more copy) is the reference.
const { createMessage } = require('node-media-server/src/protocol/flv.js') as { createMessage(packet: AVPacket): Buffer };

describe('flvTag: one FLV tag as ffmpeg reads it', () => {
  test.each([
    ['audio at 0', 8, 0, 7],
    ['video keyframe', 9, 40_000, 1500],
    ['script data', 18, 33, 90],
    ['timestamp past 24 bits (extended byte)', 9, 0x12345678, 10],
    ['timestamp past 31 bits', 8, 0xfedcba98, 3],
  ] as const)('%s: the same bytes as node-media-server writes', (_name, type, timestamp, size) => {
    const payload = Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + 1) & 0xff));
    const packet = new AVPacket();
    Object.assign(packet, { codec_type: type, dts: timestamp, pts: timestamp, size, data: Buffer.concat([payload, Buffer.from([0xee, 0xee])]) });
    const tag = flvTag(type, timestamp, payload);
    expect(tag).toEqual(createMessage(packet));
    expect(tag.length).toBe(11 + size + 4);
    expect(tag.readUInt32BE(11 + size)).toBe(11 + size);
  });
});
