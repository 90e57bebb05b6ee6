// A minimal RTMP client for tests and benchmarks: handshake, AMF0 commands, and reading the
// server's status messages. Enough to time a publish answer or to send malformed input on purpose;
// media is pushed with ffmpeg, or, for what ffmpeg cannot send, by enhanced-rtmp-publisher.ts.
import net from 'node:net';

type Amf = string | number | boolean | null | { [key: string]: Amf };

export function encodeAmf0(value: Amf): Buffer {
  if (value === null) return Buffer.from([0x05]);
  if (typeof value === 'number') {
    const buffer = Buffer.alloc(9);
    buffer[0] = 0x00;
    buffer.writeDoubleBE(value, 1);
    return buffer;
  }
  if (typeof value === 'boolean') return Buffer.from([0x01, value ? 1 : 0]);
  if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8');
    const head = Buffer.alloc(3);
    head[0] = 0x02;
    head.writeUInt16BE(text.length, 1);
    return Buffer.concat([head, text]);
  }
  const parts: Buffer[] = [Buffer.from([0x03])];
  for (const [key, entry] of Object.entries(value)) {
    const name = Buffer.from(key, 'utf8');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(name.length);
    parts.push(length, name, encodeAmf0(entry));
  }
  parts.push(Buffer.from([0x00, 0x00, 0x09]));
  return Buffer.concat(parts);
}

/** One message in a single type-0 chunk stream, split at the chunk size (RTMP's default 128 bytes unless set). */
export function chunkMessage(options: { csid: number; type: number; streamId: number; payload: Buffer; timestamp?: number; chunkSize?: number }): Buffer {
  const chunkSize = options.chunkSize ?? 128;
  const header = Buffer.alloc(12);
  header[0] = options.csid & 0x3f;
  header.writeUIntBE(options.timestamp ?? 0, 1, 3);
  header.writeUIntBE(options.payload.length, 4, 3);
  header[7] = options.type;
  header.writeUInt32LE(options.streamId, 8);
  const parts: Buffer[] = [header];
  for (let offset = 0; offset < options.payload.length; offset += chunkSize) {
    if (offset > 0) parts.push(Buffer.from([0xc0 | (options.csid & 0x3f)]));
    parts.push(options.payload.subarray(offset, offset + chunkSize));
  }
  return Buffer.concat(parts);
}

export function commandMessage(name: string, transactionId: number, ...args: Amf[]): Buffer {
  const payload = Buffer.concat([encodeAmf0(name), encodeAmf0(transactionId), ...args.map(encodeAmf0)]);
  return chunkMessage({ csid: 3, type: 20, streamId: name === 'publish' || name === 'play' ? 1 : 0, payload });
}

export interface StatusMessage {
  level: string;
  code: string;
  description: string;
}

/** A command message from the server: its name, the message stream it came on, and its info code if it has one. */
export interface ServerCommand {
  name: string;
  streamId: number;
  code: string;
}

/** Talks RTMP over one socket; collects the command messages the server sends, onStatus ones apart. */
export class RtmpTestClient {
  readonly socket: net.Socket;
  readonly statuses: StatusMessage[] = [];
  readonly commands: ServerCommand[] = [];
  closed = false;
  private received = Buffer.alloc(0);
  private handshakeDone = false;
  private inChunkSize = 128;
  private readonly headers = new Map<number, { length: number; type: number; timestamp: number; streamId: number }>();
  private partial = new Map<number, Buffer[]>();
  private waiters: Array<() => void> = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  /** `localAddress` picks the client's address (any 127.x.y.z works on loopback). */
  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<RtmpTestClient> {
    return new Promise((resolve, reject) => {
      // As OBS (librtmp) does. Without it, commands sent without waiting for the server's replies
      // sit in Nagle's buffer until the server's delayed ACK, some 40 ms, which timings would count.
      const socket = net.connect({ port, host, noDelay: true, ...(localAddress && { localAddress }) }, () => resolve(new RtmpTestClient(socket)));
      socket.once('error', reject);
    });
  }

  /** The simple (non-digest) handshake: C0 C1, wait for S0 S1 S2, then C2. */
  async handshake(): Promise<void> {
    const c1 = Buffer.alloc(1536);
    this.socket.write(Buffer.concat([Buffer.from([3]), c1]));
    await this.until(() => this.received.length >= 3073);
    const s1 = this.received.subarray(1, 1537);
    this.received = this.received.subarray(3073);
    this.handshakeDone = true;
    this.socket.write(s1);
    this.parse();
  }

  send(data: Buffer): void {
    this.socket.write(data);
  }

  /** connect, createStream, publish: what OBS and ffmpeg send before media. */
  sendPublishSequence(app: string, streamName: string, port: number): void {
    this.send(commandMessage('connect', 1, { app, type: 'nonprivate', tcUrl: `rtmp://127.0.0.1:${port}/${app}` }));
    this.send(commandMessage('createStream', 2, null));
    this.send(commandMessage('publish', 3, null, streamName, 'live'));
  }

  async nextStatus(timeoutMs = 5000): Promise<StatusMessage | undefined> {
    const count = this.statuses.length;
    await this.until(() => this.statuses.length > count || this.closed, timeoutMs);
    return this.statuses[count];
  }

  /** Waits for a command message from the server (checked as each message is read). */
  async nextCommand(name: string, code: string, timeoutMs = 5000): Promise<ServerCommand | undefined> {
    const find = () => this.commands.find((command) => command.name === name && command.code === code);
    await this.until(() => find() !== undefined || this.closed, timeoutMs);
    return find();
  }

  close(): void {
    this.socket.destroy();
  }

  private until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (condition()) return resolve();
      const timer = setTimeout(() => reject(new Error('RTMP test client: timed out')), timeoutMs);
      const check = () => {
        if (condition()) {
          clearTimeout(timer);
          resolve();
        } else {
          this.waiters.push(check);
        }
      };
      this.waiters.push(check);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  private onData(data: Buffer): void {
    this.received = Buffer.concat([this.received, data]);
    if (this.handshakeDone) this.parse();
    this.wake();
  }

  /** Just enough of the chunk stream format to read the server's small control and command messages. */
  private parse(): void {
    for (;;) {
      const buffer = this.received;
      if (buffer.length < 1) return;
      const fmt = buffer[0]! >> 6;
      const csid = buffer[0]! & 0x3f;
      const headerSize = 1 + [11, 7, 3, 0][fmt]!;
      if (buffer.length < headerSize) return;
      const previous = this.headers.get(csid) ?? { length: 0, type: 0, timestamp: 0, streamId: 0 };
      const header = { ...previous };
      if (fmt <= 1) {
        header.length = buffer.readUIntBE(4, 3);
        header.type = buffer[7]!;
      }
      if (fmt === 0) header.streamId = buffer.readUInt32LE(8);
      const collected = this.partial.get(csid) ?? [];
      const have = collected.reduce((n, part) => n + part.length, 0);
      const take = Math.min(this.inChunkSize, header.length - have);
      if (buffer.length < headerSize + take) return;
      collected.push(buffer.subarray(headerSize, headerSize + take));
      this.received = buffer.subarray(headerSize + take);
      this.headers.set(csid, header);
      if (have + take < header.length) {
        this.partial.set(csid, collected);
        continue;
      }
      this.partial.delete(csid);
      this.onMessage(header.type, header.streamId, Buffer.concat(collected));
    }
  }

  private onMessage(type: number, streamId: number, payload: Buffer): void {
    if (type === 1) this.inChunkSize = payload.readUInt32BE(0) & 0x7fffffff;
    if (type !== 20 || payload[0] !== 0x02) return;
    const name = payload.toString('utf8', 3, 3 + payload.readUInt16BE(1));
    const field = (key: string) => {
      const at = payload.indexOf(Buffer.from(key));
      if (at < 0) return '';
      const start = at + key.length;
      if (payload[start] !== 0x02) return '';
      const length = payload.readUInt16BE(start + 1);
      return payload.toString('utf8', start + 3, start + 3 + length);
    };
    this.commands.push({ name, streamId, code: field('code') });
    if (name === 'onStatus') this.statuses.push({ level: field('level'), code: field('code'), description: field('description') });
  }
}

/** Connects, asks to publish with this key, and returns the server's first status answer. */
export async function publishAnswer(port: number, streamKey: string, options: { app?: string; localAddress?: string } = {}): Promise<StatusMessage | undefined> {
  const client = await RtmpTestClient.connect(port, '127.0.0.1', options.localAddress);
  const app = options.app ?? 'live';
  try {
    await client.handshake();
    client.sendPublishSequence(app, streamKey, port);
    return await client.nextStatus();
  } finally {
    client.close();
  }
}
