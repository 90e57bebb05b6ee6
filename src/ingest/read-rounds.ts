import type net from 'node:net';

/**
 * Reads publishers' sockets in rounds, every `intervalMs`, instead of once per RTMP message.
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
  private readonly sockets = new Set<net.Socket>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number) {}

  /** From now until it closes, the socket is read once per round. */
  add(socket: net.Socket): void {
    if (this.intervalMs <= 0 || socket.destroyed) return;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    setImmediate(() => this.pause(socket));
    this.timer ??= this.nextRound();
  }

  private round(): void {
    this.timer = undefined;
    if (this.sockets.size === 0) return;
    for (const socket of this.sockets) socket.resume();
    setImmediate(() => {
      for (const socket of this.sockets) this.pause(socket);
    });
    this.timer = this.nextRound();
  }

  private nextRound(): NodeJS.Timeout {
    return setTimeout(() => this.round(), this.intervalMs).unref();
  }

  private pause(socket: net.Socket): void {
    if (this.sockets.has(socket)) socket.pause();
  }
}
