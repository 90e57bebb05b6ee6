import type { LiveLease } from './stream-leases';

/**
 * The streams live on the other nodes, as of this node's last heartbeat: what lets any node say a
 * stream is live, count its viewers and send its viewers' requests to the node that has its media.
 */
export class LiveElsewhere {
  private byStream = new Map<string, LiveLease>();
  private byPlayback = new Map<string, LiveLease>();

  constructor(private readonly node: string) {}

  update(leases: readonly LiveLease[]): void {
    const others = leases.filter((lease) => lease.node !== this.node);
    this.byStream = new Map(others.map((lease) => [lease.streamId, lease]));
    this.byPlayback = new Map(others.map((lease) => [lease.playbackId, lease]));
  }

  stream(streamId: string): LiveLease | undefined {
    return this.byStream.get(streamId);
  }

  playback(playbackId: string): LiveLease | undefined {
    return this.byPlayback.get(playbackId);
  }

  streamIds(): string[] {
    return [...this.byStream.keys()];
  }
}
