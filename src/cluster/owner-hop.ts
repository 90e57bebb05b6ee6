import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { relay } from '../http/forward';
import type { Logger } from '../observability/logger';
import { hlsUrlIds, type MediaLayout } from '../packaging/media-layout';
import type { LiveElsewhere } from './live-elsewhere';
import type { LiveLease } from './stream-leases';

/** Carries CLUSTER_SECRET on a request one node sends another. */
export const PEER_HEADER = 'x-origin-peer';

/** How long a node remembers whether an ended session's files are on its own disk. */
const ON_DISK_MS = 5000;
const MAX_REMEMBERED = 10_000;

export interface OwnerHopDeps {
  secret: string;
  elsewhere: LiveElsewhere;
  /** Whether this node has a session of the stream (that one, if named), in whatever state. */
  liveHere: (playbackId: string, sessionId: string | undefined) => boolean;
  layout: MediaLayout;
  logger: Logger;
}

/**
 * The internal hop: a viewer's request for a stream live on another node is sent to that node, and
 * its answer streamed back, held requests included. So a cache may send any request to any node.
 * The request carries the cluster secret, and a node never passes on a request that carries it: one
 * hop at most, whatever the nodes believe about each other.
 */
export class OwnerHop {
  private readonly agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  private readonly secretDigest: Buffer;
  private readonly onDisk = new Map<string, { exists: boolean; at: number }>();

  constructor(private readonly deps: OwnerHopDeps) {
    this.secretDigest = digest(deps.secret);
  }

  /** Whether another node sent this request. */
  fromPeer(req: http.IncomingMessage): boolean {
    const value = req.headers[PEER_HEADER];
    return typeof value === 'string' && timingSafeEqual(digest(value), this.secretDigest);
  }

  /** Takes an /hls/ request for a stream live on another node, and sends it there; false when this node answers it. */
  take(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const url = req.url ?? '';
    const ids = hlsUrlIds(url);
    if (!ids) return false;
    const { playbackId, sessionId } = ids;
    const lease = this.deps.elsewhere.playback(playbackId);
    if (!lease?.url || this.fromPeer(req)) return false;
    if (this.deps.liveHere(playbackId, sessionId)) return false;
    // A session the owner now runs may have begun here (it was taken over): the owner has its present.
    if (sessionId !== undefined && sessionId !== lease.sessionId && this.endedHere(playbackId, sessionId)) return false;
    this.send(lease, req, res);
    return true;
  }

  /**
   * The operator's view of a stream live on another node (its live session, its last hour), which
   * only that node keeps: the request, already authenticated here, is sent there as a peer's (the
   * caller's token stays here: the owner may not know a token from this node's environment), and
   * its answer streamed back. False when this node answers it.
   */
  passLiveView(streamId: string, req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const lease = this.deps.elsewhere.stream(streamId);
    if (!lease?.url || this.fromPeer(req) || this.deps.liveHere(lease.playbackId, undefined)) return false;
    this.send(lease, req, res, { authorization: undefined });
    return true;
  }

  private send(lease: LiveLease, req: http.IncomingMessage, res: http.ServerResponse, replaced: Record<string, string | undefined> = {}): void {
    const base = new URL(lease.url!);
    const agent = base.protocol === 'https:' ? this.agents.https : this.agents.http;
    const target = { protocol: base.protocol, hostname: base.hostname, port: base.port, path: `${base.pathname.replace(/\/$/, '')}${req.url ?? ''}`, agent };
    relay(req, res, target, { ...replaced, [PEER_HEADER]: this.deps.secret }, (error) => {
      this.deps.logger.warn({ err: error.message, node: lease.node, playbackId: lease.playbackId }, 'the node with this stream did not answer a request passed to it');
      return 'The server with this stream did not answer; try again.';
    });
  }

  /** An ended session of a stream now live elsewhere whose files this node keeps (a recording, say). */
  private endedHere(playbackId: string, sessionId: string): boolean {
    const key = `${playbackId}/${sessionId}`;
    const now = Date.now();
    const known = this.onDisk.get(key);
    if (known && now - known.at < ON_DISK_MS) return known.exists;
    if (this.onDisk.size >= MAX_REMEMBERED) this.onDisk.clear();
    const exists = fs.existsSync(this.deps.layout.sessionDir(playbackId, sessionId));
    this.onDisk.set(key, { exists, at: now });
    return exists;
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
