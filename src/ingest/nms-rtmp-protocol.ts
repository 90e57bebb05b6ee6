// The only module that touches node-media-server. It uses NMS's RTMP protocol engine (handshake,
// chunk parser, AMF) and its FLV tag writer, and none of its servers, sessions or the
// process-global Context. See ../shared/design/nms-notes.md for why.
//
// Three interpositions matter:
//  - publish: NMS answers NetStream.Publish.Start before it tells anyone. We replace its publish
//    handler so that the answer waits until the caller has checked the key (accept() / refuse()).
//  - unpublish: NMS answers neither FCUnpublish nor deleteStream; we answer both, as clients expect.
//  - parsing: the parser throws on malformed input (e.g. a connect without a valid tcUrl). feed()
//    turns every such throw into an RtmpProtocolError for the caller to close that one socket.

import Rtmp = require('node-media-server/src/protocol/rtmp.js');
import AVPacket = require('node-media-server/src/core/avpacket.js');
import nmsLogger = require('node-media-server/src/core/logger.js');
import { amf0Encode, decodeAmf0Data } from 'node-media-server/src/protocol/amf.js';
import { parseH264Sps } from 'node-media-server/src/protocol/sps_info.js';
import { av1CodecString, av1Size, hevcCodecString, hevcSize } from './codec-records';
import { aacCodecString, avcCodecString, flvTag, type AudioCodec, type AudioConfig, type MediaTag, type SourceMetadata, type VideoCodec, type VideoConfig } from './media';

export class RtmpProtocolError extends Error {
  override name = 'RtmpProtocolError';
}

export interface PublishRequest {
  app: string;
  /** The stream key. A secret: never log it. */
  streamName: string;
}

export interface RtmpProtocolHandlers {
  /** Bytes to write to the socket. */
  output(data: Buffer): void;
  /** A publish command arrived; answer it with accept() or refuse(). */
  publish(request: PublishRequest): void;
  /** The client asked to play; this origin does not serve RTMP playback. Close the connection. */
  play(): void;
  /** The publisher said it stopped (deleteStream) and was answered; the client closes the connection. */
  unpublish(): void;
  media(tag: MediaTag): void;
}

export interface RtmpProtocolLimits {
  /** Bytes held while a publish is being authorized. */
  maxPendingBytes: number;
  /** Largest RTMP message once publishing (a video frame is one); NMS would allocate up to 16 MiB. */
  maxMessageBytes: number;
  /** Largest message before the publish is accepted: only commands, which are small. */
  maxCommandBytes: number;
  /** All reassembly buffers of the connection together. */
  maxBufferedBytes: number;
  /** Chunk streams in use at once; NMS keeps a reassembly buffer for each (up to 65,599). */
  maxChunkStreams: number;
  /** Largest chunk size a client may announce. */
  maxChunkSize: number;
}

type State = 'connecting' | 'connected' | 'authorizing' | 'publishing' | 'closed';

const SET_DATA_FRAME = Buffer.from([0x02, 0x00, 0x0d, ...Buffer.from('@setDataFrame')]);
const UNPUBLISHED = 'NetStream.Unpublish.Success';
const RTMP_CHANNEL_INVOKE = 3;
const RTMP_TYPE_INVOKE = 20;
/** An AMF3 command message: one format byte before the AMF0 values (what NMS parses of it). */
const RTMP_TYPE_FLEX_MESSAGE = 17;

export class RtmpProtocol {
  private state: State = 'connecting';
  private readonly rtmp = new Rtmp();
  private app = '';
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private queuedTags: MediaTag[] = [];

  constructor(
    private readonly handlers: RtmpProtocolHandlers,
    private readonly limits: RtmpProtocolLimits,
  ) {
    const rtmp = this.rtmp;
    rtmp.onOutputCallback = (buffer) => handlers.output(buffer);
    rtmp.onPacketCallback = (packet) => this.onPacket(packet);
    // NMS's own publish/play callbacks register in its global Context; ours replace them.
    rtmp.onConnectCallback = () => undefined;
    rtmp.onPushCallback = () => undefined;
    rtmp.onPlayCallback = () => undefined;

    const nmsOnConnect = rtmp.onConnect.bind(rtmp);
    rtmp.onConnect = (message) => {
      if (this.state !== 'connecting') throw new RtmpProtocolError('connect sent twice');
      nmsOnConnect(message);
      this.app = normalizeApp(message.cmdObj?.app);
      this.state = 'connected';
    };
    rtmp.onPublish = (message) => this.onPublish(message);
    this.boundParser(limits);
    rtmp.onPlay = () => {
      this.state = 'closed';
      rtmp.sendStatusMessage(rtmp.parserPacket.header.stream_id, 'error', 'NetStream.Play.Failed', 'This server does not offer RTMP playback.');
      handlers.play();
    };
    this.answerUnpublish();
  }

  /**
   * A publisher that stops sends FCUnpublish, then deleteStream, and closes the connection a moment
   * later; GStreamer's rtmp2sink reports a connection the server closed first as an error. NMS
   * ignores FCUnpublish and answers neither; here both are answered as nginx-rtmp and SRS do, and
   * the stop goes to the caller, which leaves the closing to the client.
   */
  private answerUnpublish(): void {
    const rtmp = this.rtmp;
    const invokeHandler = rtmp.invokeHandler.bind(rtmp);
    rtmp.invokeHandler = () => {
      if (this.state === 'publishing' && commandNameOf(rtmp.parserPacket) === 'FCUnpublish') {
        this.sendCommand(0, ['onFCUnpublish', 0, null, { level: 'status', code: UNPUBLISHED, description: 'Stopped publishing.' }]);
        return;
      }
      invokeHandler();
    };
    rtmp.onDeleteStream = () => {
      if (this.state !== 'publishing') return;
      this.state = 'closed';
      // deleteStream comes on the connection's message stream; its status belongs to the published one.
      rtmp.sendStatusMessage(rtmp.streamId, 'status', UNPUBLISHED, 'Stopped publishing.');
      this.handlers.unpublish();
    };
  }

  /**
   * NMS trusts the client's sizes: a message length of 16 MiB on thousands of chunk streams is a
   * few packets' worth of bytes from an attacker. Its parser steps are wrapped to refuse that.
   */
  private boundParser(limits: RtmpProtocolLimits): void {
    const rtmp = this.rtmp;
    const packetParse = rtmp.packetParse.bind(rtmp);
    const packetAlloc = rtmp.packetAlloc.bind(rtmp);
    const controlHandler = rtmp.controlHandler.bind(rtmp);
    rtmp.packetParse = () => {
      packetParse();
      if (rtmp.inPackets.size > limits.maxChunkStreams) throw new RtmpProtocolError(`more than ${limits.maxChunkStreams} chunk streams`);
    };
    rtmp.packetAlloc = () => {
      const length = rtmp.parserPacket.header.length;
      // Before the publish is accepted only commands are expected: an anonymous client gets little memory.
      const limit = this.state === 'publishing' ? limits.maxMessageBytes : limits.maxCommandBytes;
      if (length > limit) throw new RtmpProtocolError(`a ${length}-byte message is over the ${limit}-byte limit`);
      let buffered = length;
      for (const packet of rtmp.inPackets.values()) if (packet !== rtmp.parserPacket) buffered += packet.capacity;
      if (buffered > limits.maxBufferedBytes) throw new RtmpProtocolError(`over ${limits.maxBufferedBytes} bytes of messages in reassembly`);
      packetAlloc();
    };
    rtmp.controlHandler = () => {
      controlHandler();
      if (!(rtmp.inChunkSize >= 1 && rtmp.inChunkSize <= limits.maxChunkSize)) throw new RtmpProtocolError(`chunk size ${rtmp.inChunkSize} is out of range`);
    };
  }

  /** A command NMS's encoder has no rule for (it would write the name alone), as one message. */
  private sendCommand(streamId: number, values: unknown[]): void {
    const payload = amf0Encode(values);
    const header = { fmt: 0, cid: RTMP_CHANNEL_INVOKE, timestamp: 0, length: payload.length, type: RTMP_TYPE_INVOKE, stream_id: streamId };
    this.handlers.output(Rtmp.chunksCreate({ header, payload }));
  }

  get isPublishing(): boolean {
    return this.state === 'publishing';
  }

  /** Parses bytes from the socket. Throws RtmpProtocolError on anything malformed. */
  feed(data: Buffer): void {
    if (this.state === 'closed') return;
    if (this.state === 'authorizing') {
      this.pendingBytes += data.length;
      if (this.pendingBytes > this.limits.maxPendingBytes) throw new RtmpProtocolError('too much data before the publish was answered');
      this.pending.push(data);
      return;
    }
    this.parse(data);
  }

  /** Tells the publisher it is live, then delivers what it sent while it waited. */
  accept(): void {
    if (this.state !== 'authorizing') throw new RtmpProtocolError(`accept() in state ${this.state}`);
    this.state = 'publishing';
    this.rtmp.respondPublish();
    const tags = this.queuedTags;
    const pending = this.pending;
    this.queuedTags = [];
    this.pending = [];
    this.pendingBytes = 0;
    for (const tag of tags) this.handlers.media(tag);
    for (const chunk of pending) this.parse(chunk);
  }

  /** Sends an error status for the publish; the caller then closes the connection. */
  refuse(code: 'NetStream.Publish.BadName' | 'NetStream.Publish.Denied', description: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.pending = [];
    this.queuedTags = [];
    this.rtmp.sendStatusMessage(this.rtmp.streamId, 'error', code, description);
  }

  close(): void {
    this.state = 'closed';
    this.pending = [];
    this.queuedTags = [];
  }

  private parse(data: Buffer): void {
    let error: string | null;
    try {
      error = this.rtmp.parserData(data);
    } catch (thrown) {
      if (thrown instanceof RtmpProtocolError) throw thrown;
      throw new RtmpProtocolError(`malformed RTMP input: ${(thrown as Error)?.message ?? String(thrown)}`);
    }
    if (error !== null) throw new RtmpProtocolError(`malformed RTMP input: ${error}`);
  }

  private onPublish(message: { streamName?: unknown }): void {
    if (this.state !== 'connected') throw new RtmpProtocolError(`publish in state ${this.state}`);
    if (typeof message.streamName !== 'string') throw new RtmpProtocolError('publish without a stream name');
    const streamName = message.streamName.split('?')[0] ?? '';
    this.rtmp.streamName = streamName;
    this.rtmp.streamId = this.rtmp.parserPacket.header.stream_id;
    this.state = 'authorizing';
    this.handlers.publish({ app: this.app, streamName });
  }

  private onPacket(packet: AVPacket): void {
    if (this.state !== 'publishing' && this.state !== 'authorizing') return;
    const tag = toMediaTag(packet);
    if (!tag) return;
    if (this.state === 'authorizing') this.queuedTags.push(tag);
    else this.handlers.media(tag);
  }
}

/** NMS logs through a module-wide console logger; route it into ours (the last origin created wins). */
export function routeNmsLogging(sink: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void): void {
  nmsLogger.level = 'trace';
  nmsLogger.log = (message: unknown, level: unknown) => {
    const mapped = level === 'error' || level === 'warn' || level === 'info' ? level : 'debug';
    sink(mapped, typeof message === 'string' ? message : String(message));
  };
}

/** The name of the command message being handled: its first AMF0 value, a string. */
function commandNameOf(packet: Rtmp['parserPacket']): string | undefined {
  const start = packet.header.type === RTMP_TYPE_FLEX_MESSAGE ? 1 : 0;
  const payload = packet.payload.subarray(start, packet.header.length);
  if (payload.length < 3 || payload[0] !== 0x02) return undefined;
  return payload.toString('utf8', 3, 3 + payload.readUInt16BE(1));
}

function normalizeApp(app: unknown): string {
  if (typeof app !== 'string') return '';
  return (app.split('?')[0] ?? '').replace(/\/+$/, '');
}

const VIDEO_FOURCC: Record<string, VideoCodec> = { hvc1: 'hevc', av01: 'av1', vp09: 'vp9' };

/** Enhanced RTMP's video packet types (the low four bits of a tag's first byte, with IsExHeader set). */
const SEQUENCE_START = 0;
const CODED_FRAMES = 1;
const CODED_FRAMES_X = 3;
/** Enhanced RTMP: IsExHeader, frame type, packet type, then the FourCC. */
const EX_VIDEO_HEADER = 5;

/** FLV's headers inside a tag's payload, before the codec's bytes: video (codec, packet type, composition time), AAC (codec, packet type). */
const VIDEO_HEADER = 5;
const AAC_HEADER = 2;
const FLV_TAG_HEADER = 11;

function toMediaTag(packet: AVPacket): MediaTag | undefined {
  const timestamp = packet.dts;
  switch (packet.codec_type) {
    case 9: {
      const payload = packet.data.subarray(0, packet.size);
      if (payload.length >= EX_VIDEO_HEADER && (payload[0]! & 0x80) !== 0) return enhancedVideoTag(timestamp, payload);
      const codec: VideoCodec = packet.codec_id === 7 ? 'h264' : 'other';
      const config = packet.flags === 2 ? videoConfigOf(codec, payload) : undefined;
      const bytes = flvTag(9, timestamp, payload);
      const header = Math.min(VIDEO_HEADER, payload.length);
      const compositionTime = codec === 'h264' && payload.length >= VIDEO_HEADER ? payload.readIntBE(2, 3) : 0;
      return {
        kind: 'video',
        codec,
        keyframe: packet.flags === 3,
        timestamp,
        bytes,
        data: bytes.subarray(FLV_TAG_HEADER + header, FLV_TAG_HEADER + payload.length),
        compositionTime,
        ...(config && { config }),
      };
    }
    case 8: {
      const codec: AudioCodec = packet.codec_id === 10 ? 'aac' : packet.codec_id === 2 ? 'mp3' : 'other';
      const payload = packet.data.subarray(0, packet.size);
      const config = packet.flags === 0 && codec === 'aac' ? aacConfigOf(payload) : undefined;
      const bytes = flvTag(8, timestamp, payload);
      const header = Math.min(codec === 'aac' ? AAC_HEADER : 1, payload.length);
      return { kind: 'audio', codec, timestamp, bytes, data: bytes.subarray(FLV_TAG_HEADER + header, FLV_TAG_HEADER + payload.length), ...(config && { config }) };
    }
    case 18:
      return metadataTag(packet);
    default:
      return undefined;
  }
}

/**
 * A video tag in the Enhanced RTMP form (v1, the FourCC video header): HEVC, AV1 or VP9. HEVC's
 * coded frames carry a composition time unless sent as CodedFramesX; AV1's never do. Sequence
 * ends, HDR metadata and other packet types carry no picture and are left out.
 */
function enhancedVideoTag(timestamp: number, payload: Buffer): MediaTag | undefined {
  const packetType = payload[0]! & 0x0f;
  const frameType = (payload[0]! >> 4) & 0x07;
  const codec = VIDEO_FOURCC[payload.toString('latin1', 1, 5)] ?? 'other';
  if (packetType !== SEQUENCE_START && packetType !== CODED_FRAMES && packetType !== CODED_FRAMES_X) return undefined;
  const withComposition = packetType === CODED_FRAMES && codec === 'hevc';
  const header = EX_VIDEO_HEADER + (withComposition ? 3 : 0);
  if (payload.length < header) return undefined;
  const bytes = flvTag(9, timestamp, payload);
  const data = bytes.subarray(FLV_TAG_HEADER + header, FLV_TAG_HEADER + payload.length);
  const config = packetType === SEQUENCE_START ? enhancedVideoConfig(codec, data) : undefined;
  return {
    kind: 'video',
    codec,
    keyframe: packetType !== SEQUENCE_START && frameType === 1,
    timestamp,
    bytes,
    data,
    compositionTime: withComposition ? payload.readIntBE(EX_VIDEO_HEADER, 3) : 0,
    ...(config && { config }),
  };
}

/** From an HEVCDecoderConfigurationRecord or an AV1CodecConfigurationRecord. */
function enhancedVideoConfig(codec: VideoCodec, record: Buffer): VideoConfig {
  const codecString = codec === 'hevc' ? hevcCodecString(record) : codec === 'av1' ? av1CodecString(record) : undefined;
  const size = codec === 'hevc' ? hevcSize(record) : codec === 'av1' ? av1Size(record) : undefined;
  return { codec, ...(codecString !== undefined && { codecString }), ...(size && { width: size.width, height: size.height }) };
}

/** AVCDecoderConfigurationRecord after the 5-byte FLV video tag header (ISO 14496-15, 5.2.4.1). */
function videoConfigOf(codec: VideoCodec, data: Buffer): VideoConfig {
  if (codec !== 'h264' || data.length < 13) return { codec };
  const avcc = data.subarray(5);
  const config: VideoConfig = { codec, codecString: avcCodecString(avcc) };
  const spsCount = (avcc[5] ?? 0) & 0x1f;
  if (spsCount > 0 && avcc.length >= 8) {
    const spsLength = avcc.readUInt16BE(6);
    const size = avcc.length >= 8 + spsLength ? parseH264Sps(avcc.subarray(8, 8 + spsLength)) : null;
    if (size && size.width > 0 && size.height > 0) {
      config.width = size.width;
      config.height = size.height;
    }
  }
  return config;
}

const AAC_SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** AudioSpecificConfig after the 2-byte FLV audio tag header (ISO 14496-3, 1.6.2.1). */
function aacConfigOf(data: Buffer): AudioConfig {
  if (data.length < 4) return { codec: 'aac' };
  const b0 = data[2] ?? 0;
  const b1 = data[3] ?? 0;
  const rateIndex = ((b0 & 0x07) << 1) | (b1 >> 7);
  const channels = (b1 >> 3) & 0x0f;
  const sampleRate = AAC_SAMPLE_RATES[rateIndex];
  return {
    codec: 'aac',
    codecString: aacCodecString(data.subarray(2)),
    ...(sampleRate !== undefined && { sampleRate }),
    ...(channels > 0 && { channels }),
  };
}

/**
 * RTMP publishers send "@setDataFrame", "onMetaData", {...}; in an FLV file the script tag starts
 * at "onMetaData", so the first string is dropped before the tag goes to ffmpeg.
 */
function metadataTag(packet: AVPacket): MediaTag | undefined {
  const payload = packet.data.subarray(0, packet.size);
  let decoded: ReturnType<typeof decodeAmf0Data>;
  try {
    decoded = decodeAmf0Data(payload);
  } catch {
    return undefined;
  }
  const isSetDataFrame = decoded.cmd === '@setDataFrame' && decoded.method === 'onMetaData';
  if (!isSetDataFrame && decoded.cmd !== 'onMetaData') return undefined;
  const stripped = isSetDataFrame && payload.subarray(0, SET_DATA_FRAME.length).equals(SET_DATA_FRAME) ? payload.subarray(SET_DATA_FRAME.length) : payload;
  return { kind: 'metadata', timestamp: packet.dts, metadata: metadataOf(decoded.dataObj), bytes: flvTag(18, packet.dts, stripped) };
}

function metadataOf(value: unknown): SourceMetadata {
  if (typeof value !== 'object' || value === null) return {};
  const data = value as Record<string, unknown>;
  const num = (key: string) => {
    const n = data[key];
    return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
  };
  const metadata: SourceMetadata = {};
  const assign = <K extends keyof SourceMetadata>(key: K, v: SourceMetadata[K] | undefined) => {
    if (v !== undefined) metadata[key] = v;
  };
  assign('width', num('width'));
  assign('height', num('height'));
  assign('frameRate', num('framerate') ?? num('fps'));
  assign('videoBitrateKbps', num('videodatarate'));
  assign('audioBitrateKbps', num('audiodatarate'));
  // Encoders (ffmpeg, OBS) leave out the codec id of a track they do not send.
  if ('videocodecid' in data || 'audiocodecid' in data) {
    metadata.hasVideo = 'videocodecid' in data;
    metadata.hasAudio = 'audiocodecid' in data;
  }
  if (typeof data.encoder === 'string') assign('encoder', data.encoder.slice(0, 100));
  return metadata;
}
