import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { generateId } from '../../src/streams/keys';
import { fileOf, parseMaster } from '../support/hls';
import { createStream, useTestOrigin, type TestOrigin } from '../support/origin';
import { startPublisher } from '../support/processes';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

const SEGMENT = 'public, max-age=31536000, immutable';
const LIVE_PLAYLIST = 'public, max-age=1';
const MASTER = 'public, max-age=2';
const ENDED = 'public, max-age=86400';
const POSTER = 'public, max-age=5';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request with the path exactly as given: fetch() would resolve `..` and re-encode before sending. */
function raw(origin: TestOrigin, rawPath: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port: origin.httpPort, path: rawPath, method: options.method ?? 'GET', headers: options.headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

describe('HLS delivery: types, cache rules, validators, HEAD, ranges, CORS', () => {
  const env = useTestOrigin({ overrides: { hls: { posterIntervalSeconds: 1 } } });

  test('a recorded stream while live and once ended', async () => {
    const { origin, hls } = env;
    const created = await origin.api('POST', '/api/v1/streams', { body: { name: 'Headers', record: true, reconnectWindowSeconds: 0 } });
    const { id, playbackId, streamKey } = created.body;
    const publisher = startPublisher({ url: origin.rtmpUrl(streamKey), width: 640, height: 360 });
    const master = await waitFor(() => hls.master(playbackId), { what: 'the master', timeoutMs: 20_000 });
    const masterUrl = hls.masterUrl(playbackId);
    const mediaUrl = hls.resolve(masterUrl, master.variants[0]!.uri);
    const sessionId = origin.registry.getByStreamId(id)!.id;
    const base = `/hls/${playbackId}`;
    const recordingUrl = `${base}/sessions/${sessionId}/source/recording.m3u8`;
    const sessionMaster = `${base}/sessions/${sessionId}/master.m3u8`;

    // Content types and cache rules while live
    const masterResponse = await raw(origin, `${base}/master.m3u8`);
    expect(masterResponse.status).toBe(200);
    expect(masterResponse.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(masterResponse.headers['cache-control']).toBe(MASTER);
    expect(masterResponse.headers.etag).toMatch(/^"[^"]+"$/);
    const media = await raw(origin, new URL(mediaUrl).pathname);
    expect(media.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(media.headers['cache-control']).toBe(LIVE_PLAYLIST);
    // A live playlist can change twice within a second: no Last-Modified, whose resolution is a second.
    expect(media.headers['last-modified']).toBeUndefined();
    expect(media.body.toString()).not.toContain('#EXT-X-ENDLIST');
    expect((await raw(origin, recordingUrl)).headers['cache-control']).toBe(LIVE_PLAYLIST);
    expect((await raw(origin, sessionMaster)).headers['cache-control']).toBe(MASTER);

    const segmentUri = (await hls.media(mediaUrl)).segments[0]!.uri;
    const segmentPath = new URL(hls.resolve(mediaUrl, segmentUri)).pathname;
    const segment = await raw(origin, segmentPath);
    expect(segment.status).toBe(200);
    expect(segment.headers['content-type']).toBe('video/iso.segment');
    expect(segment.headers['cache-control']).toBe(SEGMENT);
    expect(segment.headers['accept-ranges']).toBe('bytes');
    expect(segment.headers['last-modified']).toBeDefined();
    expect(Number(segment.headers['content-length'])).toBe(segment.body.length);
    expect(segment.body.equals(fs.readFileSync(fileOf(origin.config.mediaDir, hls.resolve(mediaUrl, segmentUri))))).toBe(true);
    const size = segment.body.length;
    const etag = segment.headers.etag!;

    const poster = await waitFor(
      async () => {
        const response = await raw(origin, `${base}/poster.jpg`);
        return response.status === 200 && response;
      },
      { what: 'the poster', timeoutMs: 15_000 },
    );
    expect(poster.headers['content-type']).toBe('image/jpeg');
    expect(poster.headers['cache-control']).toBe(POSTER);
    expect(poster.body.subarray(0, 2).toString('hex')).toBe('ffd8');

    // Conditional requests: 304 without a body, with the validators and the cache rule
    const byTag = await raw(origin, segmentPath, { headers: { 'If-None-Match': etag } });
    expect(byTag.status).toBe(304);
    expect(byTag.body.length).toBe(0);
    expect(byTag.headers.etag).toBe(etag);
    expect(byTag.headers['cache-control']).toBe(SEGMENT);
    expect((await raw(origin, segmentPath, { headers: { 'If-Modified-Since': segment.headers['last-modified']! } })).status).toBe(304);
    expect((await raw(origin, segmentPath, { headers: { 'If-None-Match': '"something-else"' } })).status).toBe(200);
    expect((await raw(origin, `${base}/master.m3u8`, { headers: { 'If-None-Match': masterResponse.headers.etag! } })).status).toBe(304);

    // HEAD: the headers of a GET, no body
    const head = await raw(origin, segmentPath, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers['content-length'])).toBe(size);
    expect(head.headers['content-type']).toBe('video/iso.segment');
    expect(head.headers.etag).toBe(etag);
    const headMaster = await raw(origin, `${base}/master.m3u8`, { method: 'HEAD' });
    expect(Number(headMaster.headers['content-length'])).toBe(masterResponse.body.length);

    // Byte ranges
    const first = await raw(origin, segmentPath, { headers: { Range: 'bytes=0-99' } });
    expect(first.status).toBe(206);
    expect(first.headers['content-range']).toBe(`bytes 0-99/${size}`);
    expect(Number(first.headers['content-length'])).toBe(100);
    expect(first.body.equals(segment.body.subarray(0, 100))).toBe(true);
    const middle = await raw(origin, segmentPath, { headers: { Range: 'bytes=188-375' } });
    expect(middle.body.equals(segment.body.subarray(188, 376))).toBe(true);
    const rest = await raw(origin, segmentPath, { headers: { Range: 'bytes=1000-' } });
    expect(rest.headers['content-range']).toBe(`bytes 1000-${size - 1}/${size}`);
    expect(rest.body.equals(segment.body.subarray(1000))).toBe(true);
    const tail = await raw(origin, segmentPath, { headers: { Range: 'bytes=-50' } });
    expect(tail.status).toBe(206);
    expect(tail.body.equals(segment.body.subarray(size - 50))).toBe(true);
    const beyond = await raw(origin, segmentPath, { headers: { Range: `bytes=${size}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${size}`);
    const several = await raw(origin, segmentPath, { headers: { Range: 'bytes=0-1,5-6' } });
    expect(several.status).toBe(200);
    expect(several.body.length).toBe(size);
    expect((await raw(origin, segmentPath, { headers: { Range: 'bytes=0-99', 'If-Range': etag } })).status).toBe(206);
    const changed = await raw(origin, segmentPath, { headers: { Range: 'bytes=0-99', 'If-Range': '"an-older-version"' } });
    expect(changed.status).toBe(200);
    expect(changed.body.length).toBe(size);
    const playlistRange = await raw(origin, `${base}/master.m3u8`, { headers: { Range: 'bytes=0-6' } });
    expect(playlistRange.status).toBe(206);
    expect(playlistRange.body.toString()).toBe('#EXTM3U');
    const headRange = await raw(origin, segmentPath, { method: 'HEAD', headers: { Range: 'bytes=0-99' } });
    expect(headRange.status).toBe(200);
    expect(Number(headRange.headers['content-length'])).toBe(size);

    // CORS: '*' by default, on files, on 404s and on the public status; preflight answered
    for (const response of [masterResponse, segment, await raw(origin, `${base}/nothing.m3u8`)]) {
      expect(response.headers['access-control-allow-origin']).toBe('*');
    }
    expect(segment.headers['access-control-expose-headers']).toContain('Content-Range');
    const preflight = await raw(origin, segmentPath, {
      method: 'OPTIONS',
      headers: { Origin: 'https://elsewhere.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'range' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
    expect(preflight.headers['access-control-allow-methods']).toBe('GET, HEAD, OPTIONS');
    expect(preflight.headers['access-control-allow-headers']).toBe('Range');
    const status = await raw(origin, `/api/v1/public/streams/${playbackId}`, { headers: { Origin: 'https://elsewhere.example' } });
    expect(status.headers['access-control-allow-origin']).toBe('*');
    expect(status.headers['cache-control']).toBe('public, max-age=2');
    expect(
      (await raw(origin, `/api/v1/public/streams/${playbackId}`, { method: 'OPTIONS', headers: { Origin: 'https://x.example', 'Access-Control-Request-Method': 'GET' } })).status,
    ).toBe(204);

    // Once ended: the playlists no longer change and may be cached for long; the stream master stays short
    await publisher.stop();
    await waitFor(() => origin.registry.getByStreamId(id) === undefined, { what: 'the end', timeoutMs: 20_000 });
    const endedMedia = await raw(origin, new URL(mediaUrl).pathname);
    expect(endedMedia.body.toString()).toContain('#EXT-X-ENDLIST');
    expect(endedMedia.headers['cache-control']).toBe(ENDED);
    expect(endedMedia.headers['last-modified']).toBeDefined();
    const endedRecording = await raw(origin, recordingUrl);
    expect(endedRecording.body.toString()).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(endedRecording.headers['cache-control']).toBe(ENDED);
    const endedSessionMaster = await raw(origin, sessionMaster);
    expect(endedSessionMaster.status).toBe(200);
    expect(endedSessionMaster.headers['cache-control']).toBe(ENDED);
    expect((await raw(origin, `${base}/master.m3u8`)).headers['cache-control']).toBe(MASTER);
    expect((await raw(origin, recordingUrl, { headers: { 'If-Modified-Since': endedRecording.headers['last-modified']! } })).status).toBe(304);
    expect((await raw(origin, recordingUrl, { headers: { 'If-None-Match': endedRecording.headers.etag! } })).status).toBe(304);
  });

  test('a master requested with a viewer session id names its playlists with that id; segments stay shared', async () => {
    const { origin, hls } = env;
    const stream = await createStream(origin, 'Viewer ids');
    startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 640, height: 360 });
    await waitFor(() => hls.master(stream.playbackId), { what: 'the master', timeoutMs: 20_000 });
    const plain = await raw(origin, `/hls/${stream.playbackId}/master.m3u8`);
    const withId = await raw(origin, `/hls/${stream.playbackId}/master.m3u8?vsid=viewer0001`);
    const ids = parseMaster(withId.body.toString());
    expect([...ids.variants.map((v) => v.uri), ...ids.audio.map((a) => a.uri)].every((uri) => uri.endsWith('/index.m3u8?vsid=viewer0001'))).toBe(true);
    expect(withId.body.toString().replaceAll('?vsid=viewer0001', '')).toBe(plain.body.toString());
    expect(withId.headers.etag).not.toBe(plain.headers.etag);
    const mediaPath = `/hls/${stream.playbackId}/${ids.variants[0]!.uri}`;
    const media = (await raw(origin, mediaPath)).body.toString();
    expect(
      media
        .split('\n')
        .filter((line) => line.endsWith('.m4s'))
        .every((line) => /^seg_\d+\.m4s$/.test(line)),
    ).toBe(true);
    // An id that is not plainly an id is ignored, never copied into the playlist
    const odd = await raw(origin, `/hls/${stream.playbackId}/master.m3u8?vsid=%22%3E%3Cscript%3E`);
    expect(odd.body.toString()).toBe(plain.body.toString());
  });
});

describe('nothing outside a stream folder is ever served', () => {
  const env = useTestOrigin();

  test('unknown ids, missing files, other files and every traversal attempt are 404s', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Traversal');
    const secret = 'TOP-SECRET-CONTENT';
    const live = path.join(origin.config.mediaDir, 'live');
    // What an attacker would like to read: next to the stream folders, above them, in another stream.
    fs.writeFileSync(path.join(origin.config.mediaDir, 'secret.ts'), secret);
    fs.writeFileSync(path.join(origin.dir, 'secret.ts'), secret);
    const other = await createStream(origin, 'Other');
    fs.mkdirSync(path.join(live, other.playbackId), { recursive: true });
    fs.writeFileSync(path.join(live, other.playbackId, 'master.m3u8'), `#EXTM3U\n#${secret}\n`);
    // The stream's own files, as a session leaves them, plus a link that leads outside.
    const sessionId = generateId();
    const rendition = path.join(live, stream.playbackId, 'sessions', sessionId, 'source');
    fs.mkdirSync(rendition, { recursive: true });
    fs.writeFileSync(path.join(rendition, 'seg_0.m4s'), 'a real segment');
    fs.writeFileSync(path.join(rendition, '.hidden.m3u8'), `#EXTM3U\n#${secret}\n`);
    fs.writeFileSync(path.join(rendition, '..', '.ffmpeg.source.m3u8'), `#EXTM3U\n#${secret}\n`);
    fs.symlinkSync(path.join(origin.dir, 'secret.ts'), path.join(rendition, 'seg_1.m4s'));
    fs.symlinkSync(path.join(origin.dir, 'secret.ts'), path.join(live, stream.playbackId, 'poster.jpg'));

    const base = `/hls/${stream.playbackId}`;
    // The control: a file that is the stream's is served, so the 404s below are the guards at work.
    const control = await raw(origin, `${base}/sessions/${sessionId}/source/seg_0.m4s`);
    expect(control.status).toBe(200);
    expect(control.body.toString()).toBe('a real segment');

    const attempts = [
      `/hls/AAAAAAAAAAAAAAAAAAAA/master.m3u8`,
      `/hls/${other.playbackId.slice(0, -1)}/master.m3u8`,
      `${base}/master.m3u8`, // no session has written it
      `${base}/nothing.m3u8`,
      `${base}/sessions/${sessionId}/source/seg_9.m4s`,
      `${base}/sessions/${sessionId}/source/.hidden.m3u8`,
      `${base}/sessions/${sessionId}/source/%2Ehidden.m3u8`,
      `${base}/sessions/${sessionId}/${'.ffmpeg.source.m3u8'}`,
      `${base}/sessions/${sessionId}/%2Effmpeg.source.m3u8`,
      `${base}/sessions/${sessionId}/source/seg_0.M4S`,
      `${base}/sessions/${sessionId}/source/seg_0.txt`,
      `${base}/sessions/${sessionId}/source/seg_1.m4s`, // a link leading out of the folder
      `${base}/poster.jpg`, // likewise
      `${base}/../../secret.ts`,
      `${base}/../${other.playbackId}/master.m3u8`,
      `${base}/sessions/../../secret.ts`,
      `${base}/..%2f..%2fsecret.ts`,
      `${base}/..%2F..%2F..%2Fsecret.ts`,
      `${base}/%2e%2e/%2e%2e/secret.ts`,
      `${base}/%2e%2e%2f%2e%2e%2fsecret.ts`,
      `${base}/%252e%252e%252f%252e%252e%252fsecret.ts`,
      `${base}/%25252e%25252e%25252fsecret.ts`,
      `${base}/..%5c..%5csecret.ts`,
      `${base}/..\\..\\secret.ts`,
      `${base}/%5c..%5c..%5csecret.ts`,
      `${base}//etc/passwd`,
      `${base}/%2fetc%2fpasswd`,
      `${base}/%2F${origin.dir.replace(/\//g, '%2F')}%2Fsecret.ts`,
      `/hls//etc/passwd`,
      `/hls/%2e%2e/secret.ts`,
      `/hls/..%2f${other.playbackId}/master.m3u8`,
      `${base}/master.m3u8%00.ts`,
      `${base}/sessions/${sessionId}/source/seg_0.m4s%00`,
      `${base}/sessions/${sessionId}/source/seg_0.m4s%00.jpg`,
      `${base}/sessions%00/${sessionId}/source/seg_0.m4s`,
      `${base}/sessions/${sessionId}/source/seg_0.m4s/..`,
      `${base}/sessions/${sessionId}/source/./seg_0.m4s`,
      `${base}/sessions/${sessionId}/./source/seg_0.m4s`,
    ];
    // Twice: the second time the handler answers from the routes it remembered.
    for (const attempt of [...attempts, ...attempts]) {
      const response = await raw(origin, attempt);
      expect([attempt, response.status]).toEqual([attempt, 404]);
      expect(response.body.toString()).not.toContain(secret);
    }
    // HEAD and OPTIONS do not open another way in.
    expect((await raw(origin, `${base}/..%2f..%2fsecret.ts`, { method: 'HEAD' })).status).toBe(404);
    expect((await raw(origin, `${base}/sessions/${sessionId}/source/seg_1.m4s`, { method: 'HEAD' })).status).toBe(404);
  });

  test('made-up paths by the thousand neither stop the stream files being served nor open a way out', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Many paths');
    const sessionId = generateId();
    const rendition = path.join(origin.config.mediaDir, 'live', stream.playbackId, 'sessions', sessionId, 'source');
    fs.mkdirSync(rendition, { recursive: true });
    fs.writeFileSync(path.join(rendition, 'seg_0.m4s'), 'a real segment');
    fs.symlinkSync(path.join(origin.dir, 'outside.ts'), path.join(rendition, 'seg_1.m4s'));
    fs.writeFileSync(path.join(origin.dir, 'outside.ts'), 'outside');
    const base = `/hls/${stream.playbackId}/sessions/${sessionId}/source`;
    // More paths that look like segments than the handler remembers (10 000), so its memory starts over.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const status = (requestPath: string) =>
      new Promise<number>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: origin.httpPort, path: requestPath, agent }, (response) => response.resume().on('end', () => resolve(response.statusCode ?? 0)))
          .on('error', reject);
      });
    try {
      for (let batch = 0; batch < 21; batch++) {
        const statuses = await Promise.all(Array.from({ length: 500 }, (_, i) => status(`${base}/seg_${1000 + batch * 500 + i}.ts`)));
        expect(statuses.every((code) => code === 404)).toBe(true);
      }
    } finally {
      agent.destroy();
    }
    const control = await raw(origin, `${base}/seg_0.m4s`);
    expect([control.status, control.body.toString()]).toEqual([200, 'a real segment']);
    expect((await raw(origin, `${base}/seg_1.m4s`)).status).toBe(404);
  });

  test('HLS answers keep the server-wide conventions: request ids, JSON errors, nosniff, 405 with Allow', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Conventions');
    const dir = path.join(origin.config.mediaDir, 'live', stream.playbackId);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'poster.jpg'), Buffer.from('ffd8ffe000', 'hex'));
    const poster = `/hls/${stream.playbackId}/poster.jpg`;

    const served = await raw(origin, poster, { headers: { 'X-Request-Id': 'trace-me-1' } });
    expect(served.status).toBe(200);
    expect(served.headers['x-request-id']).toBe('trace-me-1');
    expect(served.headers['x-content-type-options']).toBe('nosniff');
    const [one, two] = [await raw(origin, poster), await raw(origin, poster, { headers: { 'X-Request-Id': 'not ok!' } })];
    expect(one.headers['x-request-id']).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(two.headers['x-request-id']).not.toBe('not ok!');
    expect(two.headers['x-request-id']).not.toBe(one.headers['x-request-id']);

    const missing = await raw(origin, `/hls/${stream.playbackId}/master.m3u8`);
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(missing.body.toString())).toEqual({ error: { code: 'not_found', message: 'Not found' } });
    expect(missing.headers['x-request-id']).toBeDefined();

    for (const method of ['POST', 'PUT', 'DELETE']) {
      const refused = await raw(origin, poster, { method });
      expect(refused.status).toBe(405);
      expect(refused.headers.allow).toBe('GET, HEAD, OPTIONS');
      expect(JSON.parse(refused.body.toString()).error.code).toBe('method_not_allowed');
    }
    // The file was not touched by any of it.
    expect((await raw(origin, poster)).body.equals(Buffer.from('ffd8ffe000', 'hex'))).toBe(true);
  });
});

describe('CORS with a list of origins', () => {
  const env = useTestOrigin({ overrides: { http: { corsOrigins: ['https://allowed.example', 'http://localhost:3000'] } } });

  test('an allowed origin is echoed with Vary: Origin; any other gets no CORS answer', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Picky');
    const dir = path.join(origin.config.mediaDir, 'live', stream.playbackId);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'poster.jpg'), Buffer.from('ffd8ffe000', 'hex'));
    for (const url of [`/api/v1/public/streams/${stream.playbackId}`, `/hls/${stream.playbackId}/poster.jpg`, `/hls/${stream.playbackId}/master.m3u8`]) {
      const allowed = await raw(origin, url, { headers: { Origin: 'https://allowed.example' } });
      expect(allowed.headers['access-control-allow-origin']).toBe('https://allowed.example');
      expect(allowed.headers.vary).toContain('Origin');
      const other = await raw(origin, url, { headers: { Origin: 'https://evil.example' } });
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      expect(other.headers.vary).toContain('Origin');
    }
    const preflight = await raw(origin, `/hls/${stream.playbackId}/poster.jpg`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'range' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(preflight.headers['access-control-allow-headers']).toBe('Range');
    const refused = await raw(origin, `/hls/${stream.playbackId}/poster.jpg`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' },
    });
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    expect(refused.headers['access-control-allow-methods']).toBeUndefined();
  });
});
