import { execFile } from 'node:child_process';

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ffprobe', ['-v', 'error', '-of', 'json', ...args], { maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) =>
      error ? reject(new Error(`ffprobe ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout),
    );
  });
}

export interface ProbedStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  profile?: string;
  level?: number;
  sample_rate?: string;
  channels?: number;
}

export async function probeStreams(file: string): Promise<ProbedStream[]> {
  return (JSON.parse(await run(['-show_streams', file])) as { streams: ProbedStream[] }).streams;
}

/** Decodes every frame of a stream (a file, or a playlist and its segments): fails if it is not decodable. */
export async function countDecodedFrames(file: string, stream: 'v:0' | 'a:0' = 'v:0'): Promise<number> {
  const out = JSON.parse(await run(['-count_frames', '-select_streams', stream, '-show_entries', 'stream=nb_read_frames', file])) as {
    streams: Array<{ nb_read_frames?: string }>;
  };
  return Number(out.streams[0]?.nb_read_frames ?? 0);
}

export interface ProbedPacket {
  pts_time: number;
  dts_time: number;
  keyframe: boolean;
}

/** Video packets in presentation order; `inDecodeOrder` keeps the file's order. */
export async function videoPackets(file: string, inDecodeOrder = false): Promise<ProbedPacket[]> {
  const out = JSON.parse(await run(['-select_streams', 'v:0', '-show_entries', 'packet=pts_time,dts_time,flags', file])) as {
    packets: Array<{ pts_time: string; dts_time: string; flags: string }>;
  };
  const packets = out.packets.map((p) => ({ pts_time: Number(p.pts_time), dts_time: Number(p.dts_time), keyframe: p.flags.includes('K') }));
  return inDecodeOrder ? packets : packets.sort((a, b) => a.pts_time - b.pts_time);
}
