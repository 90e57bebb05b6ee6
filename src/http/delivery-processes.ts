import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../observability/logger';
import type { Catalog, CatalogMessage } from '../packaging/catalog';
import type { AccessSnapshot } from '../playback/playback-access';
import type { HoldOutcome } from './held-requests';
import { headerValue } from './static-file';

/** What a delivery process needs to serve HLS files as the origin does: JSON, its one argument. */
export interface DeliveryOptions {
  mediaDir: string;
  corsOrigins: string[];
  trustProxy: boolean;
  cacheMegabytes: number;
  maxHeldRequests: number;
  logLevel: string;
  logFormat: 'auto' | 'json' | 'pretty';
  /** The origin's private listener (a Unix socket), for every request the process does not answer itself. */
  forwardTo: string;
  /**
   * In a cluster, a stream not live on this node may be live on another, which the origin knows:
   * its requests go to the origin rather than to this node's disk.
   */
  onlyLiveHere: boolean;
}

/** Sent by a delivery process at most twice a second, half a second after a request: what it answered since, for the origin's viewer counts and metrics. */
export interface DeliveryReport {
  answers: Array<[kind: string, status: number, requests: number, bytes: number]>;
  seen: Array<[playbackId: string, viewerId: string]>;
  /** Requests held now, and how those that ended since the last report ended. */
  held: number;
  holds: Array<[outcome: HoldOutcome, requests: number]>;
}

/** Sent by a delivery process once its server is there to take the listening socket. */
export const READY = 'ready';

/** Sent to a delivery process: changes to the live sessions' catalog, in order, to apply to its own. */
export interface CatalogUpdate {
  catalog: CatalogMessage[];
}

/** Sent to a delivery process: who may watch signed streams, whenever that changes. */
export interface AccessUpdate {
  access: AccessSnapshot;
}

/** Sent by the origin to stop a delivery process (it finishes what it is answering). */
export const STOP = 'stop';

/** Set by a delivery process on what it forwards: the client's address, as the origin would have worked it out. */
export const CLIENT_ADDRESS_HEADER = 'x-origin-client-address';

export interface DeliveryProcessesDeps {
  count: number;
  options: Omit<DeliveryOptions, 'forwardTo'>;
  /** The public HTTP listener: every delivery process accepts connections from it too. */
  server: net.Server;
  /** The live sessions: each delivery process keeps a copy, updated as this one changes. */
  catalog: Catalog;
  /** Answers a forwarded request as the public listener would. */
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  report: (report: DeliveryReport) => void;
  logger: Logger;
}

const ENTRY = path.join(__dirname, `delivery-process${path.extname(__filename)}`);
const STOP_GRACE_MS = 5000;
/** A delivery process that died is started again after this long (not at once: one that dies at start would spin). */
const RESTART_MS = 1000;

/**
 * Child processes that answer HLS requests on the origin's own port, beside it: the kernel hands
 * each new connection to whichever process accepts first. One Node process tops out at one core;
 * these use the others, the way nginx's worker processes do. Each
 * keeps a copy of the live sessions' catalog, sent to it as it changes, so it answers live
 * playlists, held requests and parts itself. Everything else a delivery process receives (API,
 * pages, posters) it forwards to the origin over a private Unix socket, and it reports viewers and
 * HLS counts back (at most twice a second), so counts, metrics and every other answer stay the
 * origin's. A delivery process that dies is started again; meanwhile the origin accepts every
 * connection itself.
 */
export class DeliveryProcesses {
  private readonly children = new Set<ChildProcess>();
  /** Children that have their catalog: they get every change from then on. */
  private readonly following = new Set<ChildProcess>();
  private readonly heldBy = new Map<ChildProcess, number>();
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-delivery-'));
  private readonly socketPath = path.join(this.dir, 'forward.sock');
  private readonly internal: http.Server;
  private readonly forwarded = new WeakMap<http.IncomingMessage, string>();
  private stopping = false;
  /** Changes not sent yet: those made in one turn of the event loop go in one message. */
  private pending: CatalogMessage[] = [];
  private access: AccessSnapshot = { signed: [], keys: [] };

  constructor(private readonly deps: DeliveryProcessesDeps) {
    this.internal = http.createServer((req, res) => {
      const address = headerValue(req, CLIENT_ADDRESS_HEADER);
      if (address !== undefined) this.forwarded.set(req, address);
      deps.handle(req, res);
    });
  }

  /** The client address a delivery process forwarded this request for, if it came through one. */
  readonly clientAddressOf = (req: http.IncomingMessage): string | undefined => this.forwarded.get(req);

  async start(): Promise<void> {
    // Each message wakes every delivery process: the parts of several renditions closed by one
    // read of the publisher or of ffmpeg go together.
    this.deps.catalog.relay((message) => {
      if (this.pending.push(message) === 1) setImmediate(() => this.flush());
    });
    // The folder is the creator's alone (mkdtemp makes it 0700): only this user reaches the socket.
    await new Promise<void>((resolve, reject) => {
      this.internal.once('error', reject);
      this.internal.listen(this.socketPath, () => resolve());
    });
    for (let i = 0; i < this.deps.count; i++) this.spawn();
  }

  /** Requests the delivery processes hold, as of their last reports. */
  get held(): number {
    let held = 0;
    for (const count of this.heldBy.values()) held += count;
    return held;
  }

  /** Every delivery process decides on signed streams' requests as this node does. */
  updateAccess(snapshot: AccessSnapshot): void {
    this.access = snapshot;
    for (const child of this.following) if (child.connected) child.send({ access: snapshot } satisfies AccessUpdate);
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const update: CatalogUpdate = { catalog: this.pending };
    this.pending = [];
    for (const child of this.following) if (child.connected) child.send(update);
  }

  /** Process ids of the running delivery processes. */
  get pids(): number[] {
    return [...this.children].flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
  }

  private spawn(): void {
    const options: DeliveryOptions = { ...this.deps.options, forwardTo: this.socketPath };
    const child = fork(ENTRY, [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.children.add(child);
    child.on('message', (message) => {
      // Not before: Node starts accepting on a server handle the moment it arrives, and until the
      // process's own server takes it over, connections it accepts are never answered.
      if (message === READY) {
        if (this.stopping) return;
        // The snapshot has every change so far: those not sent yet go to the others first.
        this.flush();
        child.send({ catalog: this.deps.catalog.snapshot() } satisfies CatalogUpdate);
        child.send({ access: this.access } satisfies AccessUpdate);
        this.following.add(child);
        child.send('listen', this.deps.server);
      } else {
        this.heldBy.set(child, (message as DeliveryReport).held);
        this.deps.report(message as DeliveryReport);
      }
    });
    child.on('error', (error) => this.deps.logger.error({ err: error, pid: child.pid }, 'delivery process error'));
    child.once('exit', (code, signal) => {
      this.children.delete(child);
      this.following.delete(child);
      this.heldBy.delete(child);
      if (this.stopping) return;
      this.deps.logger.error({ pid: child.pid, code, signal }, 'delivery process exited; starting another');
      setTimeout(() => {
        if (!this.stopping) this.spawn();
      }, RESTART_MS).unref();
    });
  }

  /** Stops the delivery processes (they finish what they are answering) and the private listener. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.children].map((child) => stopChild(child)));
    await new Promise<void>((resolve) => {
      this.internal.close(() => resolve());
      this.internal.closeAllConnections();
    });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    // A message, not a signal: a delivery process leaves signals to the origin (delivery-process.ts).
    if (child.connected) {
      child.send(STOP, (error) => {
        if (error) child.kill('SIGKILL');
      });
    }
  });
}
