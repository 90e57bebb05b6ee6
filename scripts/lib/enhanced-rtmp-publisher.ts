// A publisher of HEVC or AV1 over Enhanced RTMP (veovera enhanced-rtmp v1, "Enhancing RTMP, FLV"
// 2023): nothing on a Debian 12 machine sends it (ffmpeg 5.1, OBS 29.0, GStreamer 1.22 cannot), so
// the tests and benchmarks frame real encoder output themselves. ffmpeg encodes a test pattern
// (libx265 or libsvtav1, AAC) in real time into fragmented MP4 on a pipe; each sample is sent as
// the specification says: onMetaData with the FourCC as `videocodecid`, a SequenceStart with the
// decoder configuration record, then CodedFrames (HEVC with a composition time) or CodedFramesX
// (HEVC frames whose composition time is zero; AV1 frames never carry one). Audio is plain AAC.
import { spawn, type ChildProcess } from 'node:child_process';
import { Fmp4Reader } from '../../src/transcode/fmp4-reader';
import type { Sample, Track } from '../../src/packaging/track';
import { chunkMessage, encodeAmf0, RtmpTestClient, type StatusMessage } from './rtmp-client';

export type EnhancedCodec = 'hevc' | 'av1';

export interface EnhancedPublisherOptions {
  port: number;
  streamKey: string;
  app?: string;
  codec: EnhancedCodec;
  width: number;
  height: number;
  frameRate?: number;
  keyframeSeconds?: number;
  /** Seconds of media, then the publisher stops (as a streamer pressing stop); endless by default. */
  durationSeconds?: number;
  ffmpegPath?: string;
}

export interface EnhancedPublisher {
  /** The server's answer to the publish. */
  answer: StatusMessage | undefined;
  /** Video and audio messages sent so far. */
  readonly sent: { video: number; audio: number };
  /** Ends when ffmpeg's output ends (durationSeconds) or the connection closes. */
  readonly ended: Promise<void>;
  stop(): Promise<void>;
}

const FOURCC: Record<EnhancedCodec, string> = { hevc: 'hvc1', av1: 'av01' };
export const PACKET_SEQUENCE_START = 0;
const PACKET_CODED_FRAMES = 1;
const PACKET_CODED_FRAMES_X = 3;
export const FRAME_KEY = 1;
const FRAME_INTER = 2;
export const IS_EX_HEADER = 0x80;
const CHUNK_SIZE = 65536;
/** Message stream and chunk streams, as ffmpeg's RTMP muxer uses them. */
const STREAM_ID = 1;
const CSID = { data: 4, audio: 5, video: 6 } as const;

function encoderArgs(codec: EnhancedCodec, gop: number): string[] {
  switch (codec) {
    case 'hevc':
      // B-frames on: frames carry composition times, as OBS's do.
      return ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', `keyint=${gop}:min-keyint=${gop}:scenecut=0:open-gop=0:log-level=error`, '-tag:v', 'hvc1'];
    case 'av1':
      return ['-c:v', 'libsvtav1', '-preset', '12', '-g', String(gop), '-svtav1-params', 'scd=0'];
  }
}

export async function startEnhancedPublisher(options: EnhancedPublisherOptions): Promise<EnhancedPublisher> {
  const frameRate = options.frameRate ?? 30;
  const gop = Math.round(frameRate * (options.keyframeSeconds ?? 2));
  const client = await RtmpTestClient.connect(options.port);
  await client.handshake();
  client.sendPublishSequence(options.app ?? 'live', options.streamKey, options.port);
  const answer = await client.nextStatus(10_000);
  const sent = { video: 0, audio: 0 };
  if (answer?.code !== 'NetStream.Publish.Start') {
    client.close();
    return { answer, sent, ended: Promise.resolve(), stop: async () => undefined };
  }
  client.send(chunkMessage({ csid: 2, type: 1, streamId: 0, payload: Buffer.from([0, 1, 0, 0]) }));

  const send = (type: 8 | 9 | 18, timestamp: number, payload: Buffer) =>
    client.send(chunkMessage({ csid: type === 9 ? CSID.video : type === 8 ? CSID.audio : CSID.data, type, streamId: STREAM_ID, payload, timestamp, chunkSize: CHUNK_SIZE }));
  const fourcc = Buffer.from(FOURCC[options.codec], 'latin1');
  let tracks: Track[] = [];
  let baseMs: number | undefined;
  const msOf = (sample: Sample, track: Track) => {
    const ms = Math.round((sample.dts * 1000) / track.timescale);
    baseMs ??= ms;
    return Math.max(0, ms - baseMs);
  };

  const reader = new Fmp4Reader({
    tracks: (found) => {
      tracks = found;
      const video = found.find((track) => track.kind === 'video');
      send(
        18,
        0,
        Buffer.concat([
          encodeAmf0('@setDataFrame'),
          encodeAmf0('onMetaData'),
          encodeAmf0({
            width: options.width,
            height: options.height,
            framerate: frameRate,
            videocodecid: fourcc.readUInt32BE(0),
            audiocodecid: 10,
            encoder: 'live-origin enhanced-rtmp test publisher',
          }),
        ]),
      );
      if (video) send(9, 0, Buffer.concat([Buffer.from([IS_EX_HEADER | (FRAME_KEY << 4) | PACKET_SEQUENCE_START]), fourcc, video.config]));
      const audio = found.find((track) => track.kind === 'audio');
      if (audio) send(8, 0, Buffer.concat([Buffer.from([0xaf, 0x00]), audio.config]));
    },
    sample: (index, sample) => {
      const track = tracks[index]!;
      const timestamp = msOf(sample, track);
      if (track.kind === 'audio') {
        send(8, timestamp, Buffer.concat([Buffer.from([0xaf, 0x01]), sample.data]));
        sent.audio++;
        return;
      }
      const frame = (sample.keyframe ? FRAME_KEY : FRAME_INTER) << 4;
      const cts = Math.round((sample.compositionOffset * 1000) / track.timescale);
      if (options.codec === 'hevc' && cts !== 0) {
        const offset = Buffer.alloc(3);
        offset.writeIntBE(cts, 0, 3);
        send(9, timestamp, Buffer.concat([Buffer.from([IS_EX_HEADER | frame | PACKET_CODED_FRAMES]), fourcc, offset, sample.data]));
      } else {
        send(9, timestamp, Buffer.concat([Buffer.from([IS_EX_HEADER | frame | (options.codec === 'av1' ? PACKET_CODED_FRAMES : PACKET_CODED_FRAMES_X)]), fourcc, sample.data]));
      }
      sent.video++;
    },
  });

  // prettier-ignore
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-re', '-f', 'lavfi', '-i', `testsrc2=size=${options.width}x${options.height}:rate=${frameRate}`,
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    ...(options.durationSeconds !== undefined ? ['-t', String(options.durationSeconds)] : []),
    '-pix_fmt', 'yuv420p',
    ...encoderArgs(options.codec, gop),
    '-c:a', 'aac', '-b:a', '128k',
    '-f', 'mp4', '-movflags', 'empty_moov+default_base_moof+frag_every_frame', '-flush_packets', '1',
    'pipe:1',
  ];
  const ffmpeg: ChildProcess = spawn(options.ffmpegPath ?? 'ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  ffmpeg.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  ffmpeg.stdout!.on('data', (chunk: Buffer) => {
    if (client.closed) return;
    try {
      reader.push(chunk);
    } catch (error) {
      stderr += String(error);
      ffmpeg.kill('SIGKILL');
    }
  });
  const exited = new Promise<void>((resolve) => ffmpeg.once('exit', () => resolve()));
  const ended = Promise.race([exited, new Promise<void>((resolve) => client.socket.once('close', () => resolve()))]).then(() => {
    if (ffmpeg.exitCode !== null && ffmpeg.exitCode !== 0 && !client.closed) throw new Error(`the ${options.codec} encoder failed: ${stderr}`);
  });
  ended.catch(() => undefined);
  return {
    answer,
    sent,
    ended,
    stop: async () => {
      if (ffmpeg.exitCode === null && ffmpeg.signalCode === null) {
        ffmpeg.kill('SIGKILL');
        await exited;
      }
      client.close();
    },
  };
}
