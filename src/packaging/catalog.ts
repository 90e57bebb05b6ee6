// The live sessions' structure as HTTP needs it: per stream, the session being packaged and each
// rendition's timeline. The packager changes it with CatalogMessages; delivery processes get the
// same messages and keep their own catalog, so every process answers from the same state.
import type { LatencyMode } from './media-playlist';
import { Timeline, type TimelineEvent, type TimelineOptions } from './timeline';

export interface LiveSessionInfo {
  playbackId: string;
  sessionId: string;
  mode: LatencyMode;
  /** PART-TARGET, seconds. */
  partTarget: number;
  renditions: string[];
  timeline: TimelineOptions;
}

export type CatalogMessage =
  | { type: 'open'; session: LiveSessionInfo }
  | { type: 'timeline'; playbackId: string; sessionId: string; rendition: string; event: TimelineEvent }
  | { type: 'close'; playbackId: string; sessionId: string }
  /** Renditions that join a session whose publisher began sending a track its plan left out. */
  | { type: 'renditions'; playbackId: string; sessionId: string; added: string[] }
  | { type: 'restore'; session: LiveSessionInfo; timelines: Record<string, ReturnType<Timeline['state']>> };

export class LiveEntry {
  readonly timelines = new Map<string, Timeline>();
  /** Bumped on every change to any of its timelines: a rendition's playlist reports on the others. */
  version = 0;
  /** Bytes of parts of segments still being written, in the process that writes them. */
  private readonly recentParts = new Map<string, Buffer>();

  constructor(public info: LiveSessionInfo) {
    for (const rendition of info.renditions) this.timelines.set(rendition, new Timeline(info.timeline));
  }

  addRenditions(added: readonly string[]): void {
    const fresh = added.filter((name) => !this.timelines.has(name));
    for (const rendition of fresh) this.timelines.set(rendition, new Timeline(this.info.timeline));
    this.info = { ...this.info, renditions: [...this.info.renditions, ...fresh] };
  }

  partBytes(rendition: string, msn: number, part: number): Buffer | undefined {
    return this.recentParts.get(`${rendition}/${msn}.${part}`);
  }

  keepPart(rendition: string, msn: number, part: number, bytes: Buffer): void {
    this.recentParts.set(`${rendition}/${msn}.${part}`, bytes);
  }

  /** A complete segment's parts are read from its file from now on. */
  forgetParts(rendition: string, msn: number): void {
    const prefix = `${rendition}/${msn}.`;
    for (const key of this.recentParts.keys()) if (key.startsWith(prefix)) this.recentParts.delete(key);
  }
}

export type CatalogListener = (entry: LiveEntry, rendition: string | undefined) => void;

export class Catalog {
  private readonly byStream = new Map<string, LiveEntry>();
  private readonly listeners = new Set<CatalogListener>();
  private readonly relays = new Set<(message: CatalogMessage) => void>();

  /** The live session of a stream; with `sessionId`, only if it is that one. */
  get(playbackId: string, sessionId?: string): LiveEntry | undefined {
    const entry = this.byStream.get(playbackId);
    return entry && (sessionId === undefined || entry.info.sessionId === sessionId) ? entry : undefined;
  }

  /** Called after every change, with the rendition that changed (none when a session opens or closes). */
  listen(listener: CatalogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every message applied here is passed on too (to the delivery processes' catalogs). */
  relay(to: (message: CatalogMessage) => void): () => void {
    this.relays.add(to);
    return () => this.relays.delete(to);
  }

  apply(message: CatalogMessage): void {
    for (const relay of this.relays) relay(message);
    switch (message.type) {
      case 'open':
      case 'restore': {
        const entry = new LiveEntry(message.session);
        if (message.type === 'restore') {
          for (const [rendition, state] of Object.entries(message.timelines)) entry.timelines.get(rendition)?.restore(state);
        }
        this.byStream.set(message.session.playbackId, entry);
        this.notify(entry, undefined);
        return;
      }
      case 'timeline': {
        const entry = this.get(message.playbackId, message.sessionId);
        const timeline = entry?.timelines.get(message.rendition);
        if (!entry || !timeline) return;
        timeline.apply(message.event);
        entry.version += 1;
        if (message.event.type === 'segment') entry.forgetParts(message.rendition, message.event.msn);
        this.notify(entry, message.rendition);
        return;
      }
      case 'renditions': {
        const entry = this.get(message.playbackId, message.sessionId);
        if (!entry) return;
        entry.addRenditions(message.added);
        entry.version += 1;
        this.notify(entry, undefined);
        return;
      }
      case 'close': {
        const entry = this.get(message.playbackId, message.sessionId);
        if (!entry) return;
        this.byStream.delete(message.playbackId);
        this.notify(entry, undefined);
        return;
      }
    }
  }

  /** Messages that rebuild this catalog elsewhere (a delivery process that starts late). */
  snapshot(): CatalogMessage[] {
    return [...this.byStream.values()].map((entry) => ({
      type: 'restore',
      session: entry.info,
      timelines: Object.fromEntries([...entry.timelines].map(([rendition, timeline]) => [rendition, timeline.state()])),
    }));
  }

  private notify(entry: LiveEntry, rendition: string | undefined): void {
    for (const listener of this.listeners) listener(entry, rendition);
  }
}
