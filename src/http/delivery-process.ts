// A delivery process (src/http/delivery-processes.ts): started by the origin, never by hand.
import http from 'node:http';
import type net from 'node:net';
import { createLogger } from '../observability/logger';
import { Catalog } from '../packaging/catalog';
import { hlsUrlIds, MediaLayout } from '../packaging/media-layout';
import { requestIds } from './app';
import { cors } from './cors';
import { PlaybackAccess } from '../playback/playback-access';
import { READY, STOP, type AccessUpdate, type CatalogUpdate, type DeliveryOptions, type DeliveryReport } from './delivery-processes';
import { hlsFileCache } from './file-cache';
import { forwarder } from './forward';
import { HeldRequests, type HoldOutcome } from './held-requests';
import { hlsHandler } from './routes/hls';

const REPORT_MS = 500;
const STOP_GRACE_MS = 2000;

const options = JSON.parse(process.argv[2] ?? '{}') as DeliveryOptions;
const logger = createLogger({ level: options.logLevel, format: options.logFormat }).child({ delivery: process.pid });

let answers = new Map<string, DeliveryReport['answers'][number]>();
/** Viewer ids by playback id: one Set per stream, not one joined key per request. */
let seen = new Map<string, Set<string>>();
let holds = new Map<HoldOutcome, number>();
let heldReported = 0;
const report = (sent: () => void = () => undefined) => {
  if ((answers.size === 0 && seen.size === 0 && holds.size === 0 && held.size === heldReported) || !process.send) return sent();
  const viewers = [...seen].flatMap(([playbackId, ids]) => [...ids].map((viewerId): [string, string] => [playbackId, viewerId]));
  process.send({ answers: [...answers.values()], seen: viewers, held: held.size, holds: [...holds] } satisfies DeliveryReport, sent);
  answers = new Map();
  seen = new Map();
  holds = new Map();
  heldReported = held.size;
};
// Armed by what there is to report (a request, a hold ending): a process nobody asks anything of
// sleeps instead of waking twice a second.
let reporting: NodeJS.Timeout | undefined;
const reportSoon = () => {
  reporting ??= setTimeout(() => {
    reporting = undefined;
    report();
  }, REPORT_MS);
};

// The origin's catalog of live sessions, kept up to date by its messages.
const catalog = new Catalog();
// Who may watch signed streams, as the origin sends it.
const access = new PlaybackAccess();
const held = new HeldRequests(catalog, options.maxHeldRequests, (outcome) => {
  holds.set(outcome, (holds.get(outcome) ?? 0) + 1);
  reportSoon();
});
const serveHls = hlsHandler({
  layout: new MediaLayout(options.mediaDir),
  catalog,
  held,
  files: hlsFileCache(options.cacheMegabytes),
  access,
  now: Date.now,
  // Within one report a viewer seen twice is sent once.
  viewers: {
    seen: (playbackId, viewerId) => {
      const ids = seen.get(playbackId);
      if (ids) ids.add(viewerId);
      else seen.set(playbackId, new Set([viewerId]));
    },
  },
  cors: cors(options.corsOrigins),
  answered: (kind, status, bytes) => {
    const key = `${kind} ${status}`;
    const entry = answers.get(key);
    if (entry) {
      entry[2] += 1;
      entry[3] += bytes;
    } else {
      answers.set(key, [kind, status, 1, bytes]);
    }
  },
  logger,
  requestId: requestIds(),
  trustProxy: options.trustProxy,
});
const forward = forwarder(options.forwardTo, options.trustProxy, logger);
const liveHere = (url: string) => {
  const ids = hlsUrlIds(url);
  return ids !== undefined && catalog.get(ids.playbackId, ids.sessionId) !== undefined;
};
const server = http.createServer((req, res) => {
  reportSoon();
  if ((options.onlyLiveHere && !liveHere(req.url ?? '')) || !serveHls(req, res)) forward(req, res);
});

let listening = false;
let stopping = false;
process.on('message', (message, handle) => {
  if (typeof message === 'object' && message !== null && 'catalog' in message) {
    for (const change of (message as CatalogUpdate).catalog) catalog.apply(change);
    return;
  }
  if (typeof message === 'object' && message !== null && 'access' in message) return access.update((message as AccessUpdate).access);
  if (message === STOP) return stop();
  if (message !== 'listen' || listening) return;
  listening = true;
  // The origin's own listening socket: the kernel gives each new connection to one of the processes.
  server.listen(handle as net.Server, () => logger.debug('delivery process accepting'));
});

/** Accepts nothing more, lets answers under way finish (closing connections as they fall idle), reports, exits. */
const stop = () => {
  if (stopping) return;
  stopping = true;
  const done = () => {
    clearTimeout(reporting);
    report(() => process.exit(0));
  };
  if (!listening) return done();
  server.close(done);
  const idle = setInterval(() => server.closeIdleConnections(), 50).unref();
  setTimeout(() => {
    clearInterval(idle);
    server.closeAllConnections();
  }, STOP_GRACE_MS).unref();
};
// Only the origin stops this process. SIGINT and SIGTERM also come to the whole process group (a
// terminal's Ctrl-C, systemd stopping the service): the origin acts on them and stops this one in
// turn, so it keeps answering meanwhile, and the origin never sees it die of a signal it expects.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
// The origin is gone (even killed outright): nothing may be left behind. It may have gone while
// this process was still loading, before anything listened for the disconnect.
process.once('disconnect', () => process.exit(0));
if (!process.connected) process.exit(0);
process.send?.(READY);
