import { parseRange } from '../../src/http/byte-range';
import { mapPlaylistUris, playlistUris } from '../../src/packaging/playlist-uris';
import { viewerSessionId, withViewerSession } from '../../src/viewers/viewer-session';

describe('Range header', () => {
  test.each([
    ['bytes=0-99', 1000, { kind: 'range', start: 0, end: 99 }],
    ['bytes=100-', 1000, { kind: 'range', start: 100, end: 999 }],
    ['bytes=-100', 1000, { kind: 'range', start: 900, end: 999 }],
    ['bytes=-5000', 1000, { kind: 'range', start: 0, end: 999 }],
    ['bytes=900-5000', 1000, { kind: 'range', start: 900, end: 999 }],
    ['bytes=999-999', 1000, { kind: 'range', start: 999, end: 999 }],
    ['BYTES=1-2', 1000, { kind: 'range', start: 1, end: 2 }],
    ['bytes = 1-2', 1000, { kind: 'whole' }],
    ['bytes=1000-', 1000, { kind: 'unsatisfiable' }],
    ['bytes=5000-6000', 1000, { kind: 'unsatisfiable' }],
    ['bytes=-0', 1000, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    [undefined, 1000, { kind: 'whole' }],
    ['bytes=0-1,5-6', 1000, { kind: 'whole' }],
    ['bytes=5-1', 1000, { kind: 'whole' }],
    ['bytes=-', 1000, { kind: 'whole' }],
    ['items=0-1', 1000, { kind: 'whole' }],
    ['bytes=a-b', 1000, { kind: 'whole' }],
    ['bytes=99999999999999999999-', 1000, { kind: 'whole' }],
  ])('%s of %d bytes', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });
});

const MASTER = [
  '#EXTM3U',
  '#EXT-X-VERSION:4',
  '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="sessions/ABC/audio/index.m3u8"',
  '#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"',
  'sessions/ABC/source/index.m3u8',
  '#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",AUDIO="audio"',
  'sessions/ABC/360p/index.m3u8?x=1',
  '',
].join('\n');

describe('playlist URIs', () => {
  test('every URI line and URI attribute, in order', () => {
    expect(playlistUris(MASTER)).toEqual(['sessions/ABC/audio/index.m3u8', 'sessions/ABC/source/index.m3u8', 'sessions/ABC/360p/index.m3u8?x=1']);
  });

  test('mapping leaves everything else as it was', () => {
    expect(mapPlaylistUris(MASTER, (uri) => uri)).toBe(MASTER);
  });

  test('a viewer session id is added to every URI of a master, so native players send it with each media playlist request', () => {
    const rewritten = withViewerSession(MASTER, 'abc123def456');
    expect(playlistUris(rewritten)).toEqual([
      'sessions/ABC/audio/index.m3u8?vsid=abc123def456',
      'sessions/ABC/source/index.m3u8?vsid=abc123def456',
      'sessions/ABC/360p/index.m3u8?x=1&vsid=abc123def456',
    ]);
    expect(rewritten.split('\n').filter((line) => !line.includes('vsid'))).toEqual(MASTER.split('\n').filter((line) => !line.includes('sessions/')));
  });

  test('only plain ids are taken from clients', () => {
    expect(viewerSessionId('0123456789abcdef01234567')).toBe('0123456789abcdef01234567');
    expect(viewerSessionId('6b1d2c3e-aaaa-4bbb-8ccc-123456789012')).toBe('6b1d2c3e-aaaa-4bbb-8ccc-123456789012');
    for (const bad of [undefined, '', 'short', 'x'.repeat(65), 'a b c d e f g h', '"><script>', ['abcdefgh', 'abcdefgh']]) {
      expect(viewerSessionId(bad)).toBeUndefined();
    }
  });
});
