import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { publishAnswer, RtmpTestClient } from '../../scripts/lib/rtmp-client';
import { makeCertificate } from '../support/certificate';
import { createStream, startTestOrigin, type TestOrigin } from '../support/origin';
import { startPublisher, stopAllProcesses } from '../support/processes';
import { startServerProcess } from '../support/server-process';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

/** The certificate a TLS client is shown on the port (verification off: the test checks which one it is). */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe('RTMPS ingest', () => {
  let dir: string;
  let origin: TestOrigin;
  let first: ReturnType<typeof makeCertificate>;
  let certFile: string;
  let keyFile: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-rtmps-'));
    first = makeCertificate(dir, 'first');
    // The files the origin reads: replaced in place when the certificate is renewed.
    certFile = path.join(dir, 'live.crt');
    keyFile = path.join(dir, 'live.key');
    fs.copyFileSync(first.certFile, certFile);
    fs.copyFileSync(first.keyFile, keyFile);
    origin = await startTestOrigin({ overrides: { rtmpsPort: 0, ingest: { tlsCertFile: certFile, tlsKeyFile: keyFile, handshakeTimeoutSeconds: 2 } } });
  });
  afterEach(() => stopAllProcesses());
  afterAll(async () => {
    await origin?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('ffmpeg publishes over rtmps:// and the stream plays; the API lists both ingest URLs; a renewed certificate is taken on reload without cutting the stream', async () => {
    const stream = await createStream(origin, 'Over TLS', { profile: 'passthrough' });
    const tlsPort = origin.rtmpsPort!;
    expect(stream.ingestUrls).toEqual([`rtmp://127.0.0.1:${origin.rtmpPort}/live`, `rtmps://127.0.0.1:${tlsPort}/live`]);
    startPublisher({ url: `rtmps://127.0.0.1:${tlsPort}/live/${stream.streamKey}`, width: 640, height: 360 });
    const master = `${origin.urls.publicUrl}/hls/${stream.playbackId}/master.m3u8`;
    await waitFor(async () => (await fetch(master)).status === 200, { what: 'the stream over RTMPS', timeoutMs: 30_000 });
    expect(origin.logs.some((line) => line.msg === 'publish accepted' && line.tls === true)).toBe(true);
    expect(origin.logText()).not.toContain(stream.streamKey);
    expect(await servedFingerprint(tlsPort)).toBe(first.fingerprint);

    // Renewed: new connections get the new certificate; the live stream goes on.
    const renewed = makeCertificate(dir, 'renewed');
    fs.copyFileSync(renewed.certFile, certFile);
    fs.copyFileSync(renewed.keyFile, keyFile);
    origin.reloadTls();
    expect(await servedFingerprint(tlsPort)).toBe(renewed.fingerprint);
    // Unusable files (a key that is not the certificate's) are refused and the renewed pair stays.
    fs.copyFileSync(first.keyFile, keyFile);
    expect(() => origin.reloadTls()).toThrow(/not usable together/);
    expect(await servedFingerprint(tlsPort)).toBe(renewed.fingerprint);
    const session = origin.registry.getByStreamId(stream.id)!;
    const before = session.info().ingest.bytesIn;
    await waitFor(() => session.info().ingest.bytesIn > before + 10_000 && session.state === 'live', { what: 'the stream to go on', timeoutMs: 10_000 });
    await origin.registry.stopStream(stream.id, 'kicked');
  });

  test('a plain RTMP client on the TLS port, a client that refuses the certificate and a handshake that never finishes are closed, logged, and harm nothing', async () => {
    const tlsPort = origin.rtmpsPort!;
    // Plain RTMP: its handshake is not a TLS ClientHello.
    const plain = await RtmpTestClient.connect(tlsPort);
    await expect(plain.handshake()).rejects.toThrow();
    await waitFor(() => plain.closed, { what: 'the plain client to be closed', timeoutMs: 10_000 });

    // A client that checks the certificate against the system's authorities: it gives up, the server goes on.
    await expect(
      new Promise((resolve, reject) => {
        const socket = tls.connect({ port: tlsPort, host: '127.0.0.1', servername: 'localhost' }, () => resolve(socket));
        socket.once('error', reject);
      }),
    ).rejects.toThrow(/self[- ]signed/i);

    // Silent after connecting: closed after the handshake time (2 s here), as a silent RTMP client is.
    const started = Date.now();
    const silent = net.connect({ port: tlsPort, host: '127.0.0.1' });
    silent.on('error', () => undefined);
    await new Promise((resolve) => silent.once('close', resolve));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(Date.now() - started).toBeLessThan(10_000);

    await waitFor(() => origin.logs.filter((line) => line.msg === 'closed an RTMPS connection whose TLS handshake failed').length >= 3, {
      what: 'three logged failures',
      timeoutMs: 5000,
    });
    expect(origin.logs.some((line) => line.msg === 'closed an RTMPS connection whose TLS handshake failed' && line.reason === 'no TLS handshake in time')).toBe(true);
    // Still taking streams on both ports.
    const stream = await createStream(origin, 'After the noise');
    expect((await publishAnswer(origin.rtmpPort, stream.streamKey))?.code).toBe('NetStream.Publish.Start');
  });
});

describe('RTMPS required', () => {
  let dir: string;
  let origin: TestOrigin;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-rtmps-required-'));
    const certificate = makeCertificate(dir, 'server');
    origin = await startTestOrigin({ overrides: { rtmpsPort: 0, ingest: { tlsCertFile: certificate.certFile, tlsKeyFile: certificate.keyFile, tlsRequired: true } } });
  });
  afterEach(() => stopAllProcesses());
  afterAll(async () => {
    await origin?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a publish over plain RTMP is refused with the reason; RTMPS is the only ingest URL handed out and works', async () => {
    const stream = await createStream(origin, 'TLS only', { profile: 'passthrough' });
    expect(stream.ingestUrl).toBe(`rtmps://127.0.0.1:${origin.rtmpsPort}/live`);
    expect(stream.ingestUrls).toEqual([stream.ingestUrl]);
    const answer = await publishAnswer(origin.rtmpPort, stream.streamKey);
    expect(answer).toMatchObject({ level: 'error', code: 'NetStream.Publish.Denied' });
    expect(answer?.description).toContain('RTMPS only');
    expect(origin.logs.some((line) => line.reason === 'tls_required' && String(line.msg).startsWith('publish refused'))).toBe(true);
    startPublisher({ url: `${stream.ingestUrl}/${stream.streamKey}`, width: 320, height: 180 });
    await waitFor(() => origin.registry.getByStreamId(stream.id)?.state === 'live', { what: 'live over RTMPS', timeoutMs: 30_000 });
    await origin.registry.stopStream(stream.id, 'kicked');
  });
});

describe('RTMPS in the server process', () => {
  test('SIGHUP reads a renewed certificate; RTMPS_PORT without certificate files, or unusable ones, stop the start with the reason', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-rtmps-process-'));
    try {
      const first = makeCertificate(dir, 'first');
      const certFile = path.join(dir, 'live.crt');
      const keyFile = path.join(dir, 'live.key');
      fs.copyFileSync(first.certFile, certFile);
      fs.copyFileSync(first.keyFile, keyFile);
      const env = { DATABASE_URL: `sqlite:${dir}/origin.db`, MEDIA_DIR: `${dir}/media`, RTMPS_PORT: '0', TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile };
      const server = startServerProcess(env);
      try {
        await server.httpUrl();
        const port = Number(/"rtmps":"rtmps:\/\/[^:]+:(\d+)\//.exec(server.stdout())![1]);
        expect(await servedFingerprint(port)).toBe(first.fingerprint);
        const renewed = makeCertificate(dir, 'renewed');
        fs.copyFileSync(renewed.certFile, certFile);
        fs.copyFileSync(renewed.keyFile, keyFile);
        server.child.kill('SIGHUP');
        await waitFor(() => server.stdout().includes('RTMPS certificate and key read again'), { what: 'the reload', timeoutMs: 10_000 });
        expect(await servedFingerprint(port)).toBe(renewed.fingerprint);
      } finally {
        server.kill();
        await server.exited;
      }

      const withoutFiles = startServerProcess({ ...env, TLS_CERT_FILE: '', TLS_KEY_FILE: '' });
      expect((await withoutFiles.exited).code).not.toBe(0);
      expect(withoutFiles.stderr() + withoutFiles.stdout()).toContain('RTMPS_PORT needs TLS_CERT_FILE and TLS_KEY_FILE');
      const mismatched = startServerProcess({ ...env, TLS_KEY_FILE: first.keyFile });
      expect((await mismatched.exited).code).not.toBe(0);
      expect(mismatched.stderr() + mismatched.stdout()).toContain('not usable together');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
