import { buildMasterPlaylist } from '../../src/hls/master-playlist';
import { lastSequence, parseMediaPlaylist, renderMediaPlaylist, withEndList } from '../../src/hls/media-playlist';
import { planLadder, type Profile } from '../../src/transcode/ladder';

const rungs = [
  { name: '720p', height: 720, videoBitrateKbps: 2800 },
  { name: '360p', height: 360, videoBitrateKbps: 800 },
];
const ladder: Profile = { kind: 'ladder', rungs, sourceRung: false };
const plan = (source: Parameters<typeof planLadder>[0], profile: Profile = ladder) => planLadder(source, { profile, audioBitrateKbps: 128 });

describe('master playlist', () => {
  test('video renditions share one audio rendition; URIs point into the session', () => {
    const p = plan({ video: { codec: 'h264', width: 1280, height: 720, frameRate: 30 }, audio: { codec: 'mp3' } });
    expect(buildMasterPlaylist(p, { uriPrefix: 'sessions/abc/', playlist: 'index.m3u8' })).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:4',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="sessions/abc/audio/index.m3u8"',
        '#EXT-X-STREAM-INF:BANDWIDTH=3528800,AVERAGE-BANDWIDTH=3074400,RESOLUTION=1280x720,FRAME-RATE=30.000,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"',
        'sessions/abc/720p/index.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=1108800,AVERAGE-BANDWIDTH=974400,RESOLUTION=640x360,FRAME-RATE=30.000,CODECS="avc1.4d401e,mp4a.40.2",AUDIO="audio"',
        'sessions/abc/360p/index.m3u8',
        '',
      ].join('\n'),
    );
  });

  test('copied renditions declare the measured bitrate, with headroom for peaks', () => {
    const p = plan({ video: { codec: 'h264', width: 1280, height: 720, frameRate: 30, codecString: 'avc1.64001f' }, audio: { codec: 'aac', codecString: 'mp4a.40.2', channels: 2 } }, { kind: 'passthrough', rungs: [], sourceRung: true });
    const text = buildMasterPlaylist(p, { uriPrefix: '', playlist: 'recording.m3u8', measuredKbps: { source: 2500, audio: 130 } });
    // peak: (2500 + 130) * 1.2 * 1.1, average: (2500 + 130) * 1.05
    expect(text).toContain('#EXT-X-STREAM-INF:BANDWIDTH=3471600,AVERAGE-BANDWIDTH=2761500,RESOLUTION=1280x720,FRAME-RATE=30.000,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"\nsource/recording.m3u8');
  });

  test('video only: no audio group; unknown frame rate: no FRAME-RATE', () => {
    const text = buildMasterPlaylist(plan({ video: { codec: 'h264', width: 640, height: 360 } }), { uriPrefix: '', playlist: 'index.m3u8' });
    expect(text).not.toContain('EXT-X-MEDIA');
    expect(text).not.toContain('FRAME-RATE');
    expect(text).toContain('CODECS="avc1.4d401f"');
  });

  test('audio only: one variant per audio rendition', () => {
    expect(buildMasterPlaylist(plan({ audio: { codec: 'mp3' } }), { uriPrefix: '', playlist: 'index.m3u8' })).toBe(
      '#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-STREAM-INF:BANDWIDTH=140800,AVERAGE-BANDWIDTH=134400,CODECS="mp4a.40.2"\naudio/index.m3u8\n',
    );
  });
});

describe('media playlist', () => {
  const ffmpegStyle = [
    '#EXTM3U',
    '#EXT-X-VERSION:6',
    '#EXT-X-TARGETDURATION:2',
    '#EXT-X-MEDIA-SEQUENCE:100',
    '#EXTINF:2.000000,',
    '#EXT-X-PROGRAM-DATE-TIME:2026-11-21T02:46:29.471+0000',
    'seg_100.ts',
    '#EXT-X-DISCONTINUITY',
    '#EXTINF:1.5,',
    'seg_101.ts',
    '',
  ].join('\n');

  test('parses sequence numbers, durations, discontinuities and program date-time', () => {
    const playlist = parseMediaPlaylist(ffmpegStyle);
    expect(playlist).toEqual({
      mediaSequence: 100,
      discontinuitySequence: 0,
      targetDuration: 2,
      endList: false,
      segments: [
        { sequence: 100, uri: 'seg_100.ts', duration: 2, discontinuity: false, programDateTime: '2026-11-21T02:46:29.471+0000' },
        { sequence: 101, uri: 'seg_101.ts', duration: 1.5, discontinuity: true },
      ],
    });
    expect(lastSequence(playlist)).toBe(101);
    expect(lastSequence(parseMediaPlaylist('#EXTM3U\n'))).toBeUndefined();
  });

  test('renders what it parses, with the discontinuity sequence and playlist type', () => {
    const playlist = { ...parseMediaPlaylist(ffmpegStyle), discontinuitySequence: 3, playlistType: 'VOD' as const, endList: true };
    const text = renderMediaPlaylist(playlist);
    expect(text).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-TARGETDURATION:2',
        '#EXT-X-PLAYLIST-TYPE:VOD',
        '#EXT-X-MEDIA-SEQUENCE:100',
        '#EXT-X-DISCONTINUITY-SEQUENCE:3',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-PROGRAM-DATE-TIME:2026-11-21T02:46:29.471+0000',
        '#EXTINF:2.000,',
        'seg_100.ts',
        '#EXT-X-DISCONTINUITY',
        '#EXTINF:1.500,',
        'seg_101.ts',
        '#EXT-X-ENDLIST',
        '',
      ].join('\n'),
    );
    expect(parseMediaPlaylist(text)).toEqual(playlist);
  });

  test('ENDLIST is added once', () => {
    const ended = withEndList(ffmpegStyle);
    expect(ended.endsWith('seg_101.ts\n#EXT-X-ENDLIST\n')).toBe(true);
    expect(withEndList(ended)).toBe(ended);
    expect(withEndList('#EXTM3U')).toBe('#EXTM3U\n#EXT-X-ENDLIST\n');
  });
});
