// Typings for the node-media-server 4.4.3 internals used by ingest/nms-rtmp-protocol.ts, and only
// those. The package ships no types for v4 (@types/node-media-server describes v2).

declare module 'node-media-server/src/core/avpacket.js' {
  class AVPacket {
    codec_id: number;
    /** 8 audio, 9 video, 18 script data (FLV tag types). */
    codec_type: number;
    duration: number;
    /**
     * 0 audio sequence header, 1 audio frame, 2 video sequence header, 3 video key frame,
     * 4 video inter frame, 5 script data, 6 video metadata (enhanced RTMP).
     */
    flags: number;
    pts: number;
    dts: number;
    size: number;
    data: Buffer;
  }
  export = AVPacket;
}

declare module 'node-media-server/src/protocol/rtmp.js' {
  import AVPacket = require('node-media-server/src/core/avpacket.js');

  interface InvokeMessage {
    cmd?: unknown;
    transId?: unknown;
    cmdObj?: Record<string, unknown> | null;
    streamName?: unknown;
  }

  class Rtmp {
    streamApp: unknown;
    streamName: string;
    streamId: number;
    inChunkSize: number;
    parserPacket: { header: { stream_id: number; length: number; type: number }; capacity: number; payload: Buffer };
    /** Messages being reassembled, by chunk stream id. */
    inPackets: Map<number, { capacity: number }>;
    /** Reads a chunk's message header into parserPacket (a new chunk stream is added to inPackets). */
    packetParse(): void;
    /** Sizes parserPacket.payload for the message length just read. */
    packetAlloc(): void;
    /** Protocol control messages: set chunk size, window size, … */
    controlHandler(): void;
    /** Command messages (parserPacket): decodes one and calls onConnect, onPublish, … by its name. */
    invokeHandler(): void;
    onOutputCallback: (buffer: Buffer) => void;
    onPacketCallback: (packet: AVPacket) => void;
    onConnectCallback: (request: unknown) => void;
    onPushCallback: () => void;
    onPlayCallback: () => void;
    parserData(buffer: Buffer): string | null;
    onConnect(message: InvokeMessage): void;
    onPublish(message: InvokeMessage): void;
    onPlay(message: InvokeMessage): void;
    onDeleteStream(message: InvokeMessage): void;
    respondPublish(): void;
    sendStatusMessage(streamId: number, level: string, code: string, description: string): void;
    /** One message as chunks (a type-0 header, then type-3 headers), at NMS's outgoing chunk size. */
    static chunksCreate(packet: { header: { fmt: number; cid: number; timestamp: number; length: number; type: number; stream_id: number }; payload: Buffer }): Buffer;
  }
  export = Rtmp;
}

declare module 'node-media-server/src/protocol/amf.js' {
  export function decodeAmf0Data(buffer: Buffer): { cmd?: unknown; method?: unknown; dataObj?: unknown };
  /** AMF0 values one after the other (strings, numbers, null, plain objects). */
  export function amf0Encode(values: unknown[]): Buffer;
}

declare module 'node-media-server/src/protocol/sps_info.js' {
  export function parseH264Sps(sps: Buffer): { width: number; height: number } | null;
  export function parseH265Sps(sps: Buffer): { width: number; height: number } | null;
}

declare module 'node-media-server/src/core/logger.js' {
  interface NmsLogger {
    level: string;
    log(message: unknown, level?: unknown): void;
  }
  const logger: NmsLogger;
  export = logger;
}
