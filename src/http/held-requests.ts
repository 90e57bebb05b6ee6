// Requests held until the live session they ask about has something: a blocking playlist reload,
// or a part that is about to be written. Each catalog change wakes the requests waiting on that
// rendition, and only those.
import type { Catalog, LiveEntry } from '../packaging/catalog';

export type HoldOutcome = 'ready' | 'gone' | 'timeout' | 'full' | 'closed';

interface Waiter {
  ready: (entry: LiveEntry) => boolean;
  settle: (outcome: HoldOutcome) => void;
}

export class HeldRequests {
  /** By `<playbackId>/<sessionId>/<rendition>`. */
  private readonly waiting = new Map<string, Set<Waiter>>();
  private count = 0;

  constructor(
    catalog: Catalog,
    /** Past this many held at once in this process, more are refused: each holds a socket and a little memory. */
    private readonly maxHeld: number,
    /** Told how each request ended (for the metrics). */
    private readonly ended: (outcome: HoldOutcome) => void = () => undefined,
  ) {
    catalog.listen((entry, rendition) => {
      const { playbackId, sessionId } = entry.info;
      if (rendition !== undefined) {
        this.wake(`${playbackId}/${sessionId}/${rendition}`, entry);
        return;
      }
      // The session opened or closed: its held requests are answered from whatever is there now.
      if (catalog.get(playbackId, sessionId)) return;
      for (const name of entry.info.renditions) this.settleAll(`${playbackId}/${sessionId}/${name}`, 'gone');
    });
  }

  get size(): number {
    return this.count;
  }

  /**
   * Resolves once `ready` holds for the rendition's session (checked at each of its changes),
   * when the session leaves the catalog (`gone`), after `timeoutMs`, when `closed` fires (the client
   * went away), or at once with `full` past the limit.
   */
  hold(entry: LiveEntry, rendition: string, ready: (entry: LiveEntry) => boolean, timeoutMs: number, closed: (listener: () => void) => void): Promise<HoldOutcome> {
    if (this.count >= this.maxHeld) {
      this.ended('full');
      return Promise.resolve('full');
    }
    const key = `${entry.info.playbackId}/${entry.info.sessionId}/${rendition}`;
    return new Promise((resolve) => {
      let set = this.waiting.get(key);
      if (!set) {
        set = new Set();
        this.waiting.set(key, set);
      }
      const waiters = set;
      const timer = setTimeout(() => waiter.settle('timeout'), timeoutMs);
      const waiter: Waiter = {
        ready,
        settle: (outcome) => {
          if (!waiters.delete(waiter)) return;
          clearTimeout(timer);
          this.count -= 1;
          if (waiters.size === 0 && this.waiting.get(key) === waiters) this.waiting.delete(key);
          this.ended(outcome);
          resolve(outcome);
        },
      };
      waiters.add(waiter);
      this.count += 1;
      closed(() => waiter.settle('closed'));
    });
  }

  private wake(key: string, entry: LiveEntry): void {
    const waiters = this.waiting.get(key);
    if (!waiters) return;
    // settle() deletes the waiter from the set being iterated, which a Set allows.
    for (const waiter of waiters) if (waiter.ready(entry)) waiter.settle('ready');
  }

  private settleAll(key: string, outcome: HoldOutcome): void {
    const waiters = this.waiting.get(key);
    if (waiters) for (const waiter of waiters) waiter.settle(outcome);
  }
}
