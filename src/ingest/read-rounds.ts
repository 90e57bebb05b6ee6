import type net from 'node:net';
import type { Ticker } from '../ticker';

/** The part of a net.Socket's libuv handle that starts and stops reading (Node keeps `reading` in step). */
interface StreamHandle {
  reading: boolean;
  readStart(): number;
  readStop(): number;
}

function handleOf(socket: net.Socket): StreamHandle | undefined {
  return (socket as unknown as { _handle?: StreamHandle | null })._handle ?? undefined;
}

/**
 * Reads sockets in rounds, at every tick of `ticker`, instead of once per message, while their
 * `mayWait()` says so: publishers' (the connection says yes in the middle of a GOP, where a delay
 * reaches no viewer) and ffmpeg's output (always yes).
 *
 * Encoders write each audio and video message as it is produced, about 110 a second per stream,
 * and ffmpeg a fragment per encoded frame; each one woke the process (docs/decisions.md). Between
 * rounds a socket's handle is stopped, so what arrives waits in the kernel. A round starts every
 * socket at once: one wake-up reads all of them, and each is stopped again after the poll phase
 * that read it (setImmediate runs after it). A frame reaches the server at most `intervalMs` later
 * than it would have.
 *
 * The handle is stopped by hand, as Node's own `pause()` does for sockets with an `onread`
 * buffer: a paused socket otherwise goes on reading until its stream buffer is over its high-water
 * mark, which cost one more wake-up and read per round (docs/decisions.md).
 */
export class ReadRounds {
  private readonly sockets = new Map<net.Socket, () => boolean>();
  private off: (() => void) | undefined;

  /** With a ticker of interval 0, every socket is read as data comes. */
  constructor(private readonly ticker: Ticker) {}

  get intervalMs(): number {
    return this.ticker.intervalMs;
  }

  /** From now until it closes, the socket is read once per round whenever `mayWait()` is true. */
  add(socket: net.Socket, mayWait: () => boolean): void {
    if (this.intervalMs <= 0 || socket.destroyed) return;
    this.sockets.set(socket, mayWait);
    socket.once('close', () => this.sockets.delete(socket));
    setImmediate(() => this.pause(socket));
    this.off ??= this.ticker.every(() => this.round());
  }

  private round(): void {
    if (this.sockets.size === 0) {
      this.off?.();
      this.off = undefined;
      return;
    }
    for (const socket of this.sockets.keys()) this.resume(socket);
    setImmediate(() => {
      for (const socket of this.sockets.keys()) this.pause(socket);
    });
  }

  /** A socket that may not wait stays flowing until a later round finds it may. */
  private pause(socket: net.Socket): void {
    if (socket.destroyed || !this.sockets.get(socket)?.()) return;
    socket.pause();
    setReading(socket, false);
  }

  private resume(socket: net.Socket): void {
    socket.resume();
    // resume() starts the handle only when the stream asks for more, which it may not: it can
    // still count a read as under way from before the handle was stopped.
    if (!socket.destroyed) setReading(socket, true);
  }
}

/** Starts or stops the socket's handle as Node does, failing the socket if libuv refuses. */
function setReading(socket: net.Socket, on: boolean): void {
  const handle = handleOf(socket);
  if (!handle || handle.reading === on) return;
  handle.reading = on;
  const status = on ? handle.readStart() : handle.readStop();
  if (status < 0) socket.destroy(new Error(`cannot ${on ? 'start' : 'stop'} reading the socket (libuv status ${status})`));
}
