import type net from 'node:net';

/**
 * Reads publishers' sockets in rounds, every `intervalMs`, instead of once per RTMP message, while
 * their `mayWait()` says so (the connection says yes in the middle of a GOP, where a delay reaches
 * no viewer).
 *
 * Encoders write each audio and video message as it is produced, about 110 a second per stream,
 * and each one woke the process (docs/benchmarks.md, section 4). Between rounds a socket is paused;
 * the first message that then arrives fills its (one-byte) read buffer and Node stops reading it,
 * so the rest waits in the kernel. A round resumes every socket at once: one wake-up reads all of
 * them, and a socket is paused again after the poll phase that read it (setImmediate runs after
 * it). A frame reaches the server at most `intervalMs` later than it would have.
 *
 * Sockets must come from a server created with `highWaterMark: 1`: with Node's default (16 KiB)
 * a paused socket goes on being read, one wake-up per message, until that much is buffered.
 */
export class ReadRounds {
  private readonly sockets = new Map<net.Socket, () => boolean>();
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly intervalMs: number) {}

  /** From now until it closes, the socket is read once per round whenever `mayWait()` is true. */
  add(socket: net.Socket, mayWait: () => boolean): void {
    if (this.intervalMs <= 0 || socket.destroyed) return;
    this.sockets.set(socket, mayWait);
    socket.once('close', () => this.sockets.delete(socket));
    setImmediate(() => this.pause(socket));
    this.timer ??= this.nextRound();
  }

  private round(): void {
    this.timer = undefined;
    if (this.sockets.size === 0) return;
    for (const socket of this.sockets.keys()) socket.resume();
    setImmediate(() => {
      for (const socket of this.sockets.keys()) this.pause(socket);
    });
    this.timer = this.nextRound();
  }

  private nextRound(): NodeJS.Timeout {
    return setTimeout(() => this.round(), this.intervalMs).unref();
  }

  /** A socket that may not wait stays flowing until a later round finds it may. */
  private pause(socket: net.Socket): void {
    if (this.sockets.get(socket)?.()) socket.pause();
  }
}
