import type { LatencyMode } from '../packaging/media-playlist';
import type { LadderPlan, SourceInfo } from '../transcode/ladder';
import type { TranscoderProgress } from '../transcode/transcoder';
import type { SessionState } from './live-session';

/** A live session as the operator API shows it (`liveSession` of a stream). */
export interface LiveSessionInfo {
  id: string;
  /** The origin node ingesting it. */
  node: string;
  state: SessionState;
  startedAt: number;
  clientAddress?: string;
  profile: string;
  latencyMode: LatencyMode;
  recorded: boolean;
  reconnects: number;
  transcoderRestarts: number;
  ingest: {
    video?: { codec: string; width: number; height: number; frameRate?: number };
    audio?: { codec: string; sampleRate?: number; channels?: number };
    bitrateKbps?: number;
    keyframeIntervalSeconds?: number;
    bytesIn: number;
  };
  renditions: Array<{ name: string; kind: 'video' | 'audio'; mode: 'encode' | 'copy'; width?: number; height?: number; bitrateKbps?: number }>;
  transcoder?: TranscoderProgress;
  warnings: string[];
}

export interface SessionFacts {
  id: string;
  node: string;
  state: SessionState;
  startedAt: number;
  clientAddress: string | undefined;
  profile: string;
  latencyMode: LatencyMode;
  recorded: boolean;
  reconnects: number;
  transcoderRestarts: number;
  source: SourceInfo | undefined;
  bitrateKbps: number | undefined;
  keyframeIntervalMs: number | undefined;
  bytesIn: number;
  plan: LadderPlan | undefined;
  progress: TranscoderProgress | undefined;
  warnings: Iterable<string>;
}

export function sessionView(facts: SessionFacts): LiveSessionInfo {
  const { source, plan } = facts;
  return {
    id: facts.id,
    node: facts.node,
    state: facts.state,
    startedAt: facts.startedAt,
    ...(facts.clientAddress !== undefined && { clientAddress: facts.clientAddress }),
    profile: facts.profile,
    latencyMode: facts.latencyMode,
    recorded: facts.recorded,
    reconnects: facts.reconnects,
    transcoderRestarts: facts.transcoderRestarts,
    ingest: {
      ...(source?.video && {
        video: {
          codec: source.video.codec,
          width: source.video.width,
          height: source.video.height,
          ...(source.video.frameRate !== undefined && { frameRate: source.video.frameRate }),
        },
      }),
      ...(source?.audio && {
        audio: {
          codec: source.audio.codec,
          ...(source.audio.sampleRate !== undefined && { sampleRate: source.audio.sampleRate }),
          ...(source.audio.channels !== undefined && { channels: source.audio.channels }),
        },
      }),
      ...(facts.bitrateKbps !== undefined && { bitrateKbps: Math.round(facts.bitrateKbps) }),
      ...(facts.keyframeIntervalMs !== undefined && { keyframeIntervalSeconds: facts.keyframeIntervalMs / 1000 }),
      bytesIn: facts.bytesIn,
    },
    renditions: plan
      ? [
          ...plan.video.map((v) => ({
            name: v.name,
            kind: 'video' as const,
            mode: v.mode,
            width: v.width,
            height: v.height,
            ...(v.mode === 'encode' && { bitrateKbps: v.videoBitrateKbps }),
          })),
          ...plan.audio.map((a) => ({ name: a.name, kind: 'audio' as const, mode: a.mode, bitrateKbps: Math.round(a.bitrateKbps) })),
        ]
      : [],
    ...(facts.progress && {
      transcoder: { ...(facts.progress.speed !== undefined && { speed: facts.progress.speed }), ...(facts.progress.fps !== undefined && { fps: facts.progress.fps }) },
    }),
    warnings: [...facts.warnings],
  };
}
