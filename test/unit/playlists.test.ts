import { buildMasterPlaylist } from '../../src/hls/master-playlist';
import { lastSequence, parseMediaPlaylist, withEndList } from '../../src/hls/media-playlist';
import { planLadder } from '../../src/transcode/ladder';

const rungs = [
  { name: '720p', height: 720, videoBitrateKbps: 2800 },
  { name: '360p', height: 360, videoBitrateKbps: 800 },
];

describe('master playlist', () => {
  test('video renditions share one audio rendition', () => {
    const plan = planLadder({ video: { codec: 'h264', width: 1280, height: 720, frameRate: 30 }, audio: { codec: 'aac' } }, { rungs, audioBitrateKbps: 128 });
    expect(buildMasterPlaylist(plan)).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:6',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/index.m3u8"',
        '#EXT-X-STREAM-INF:BANDWIDTH=3528800,AVERAGE-BANDWIDTH=3074400,RESOLUTION=1280x720,FRAME-RATE=30.000,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"',
        '720p/index.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=1108800,AVERAGE-BANDWIDTH=974400,RESOLUTION=640x360,FRAME-RATE=30.000,CODECS="avc1.4d401e,mp4a.40.2",AUDIO="audio"',
        '360p/index.m3u8',
        '',
      ].join('\n'),
    );
  });

  test('video only: no audio group; unknown frame rate: no FRAME-RATE', () => {
    const plan = planLadder({ video: { codec: 'h264', width: 640, height: 360 } }, { rungs, audioBitrateKbps: 128 });
    const text = buildMasterPlaylist(plan);
    expect(text).not.toContain('EXT-X-MEDIA');
    expect(text).not.toContain('FRAME-RATE');
    expect(text).toContain('CODECS="avc1.4d401f"');
  });

  test('audio only: one variant pointing at the audio playlist', () => {
    const plan = planLadder({ audio: { codec: 'aac' } }, { rungs, audioBitrateKbps: 128 });
    expect(buildMasterPlaylist(plan)).toBe(
      '#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-STREAM-INF:BANDWIDTH=140800,AVERAGE-BANDWIDTH=134400,CODECS="mp4a.40.2"\naudio/index.m3u8\n',
    );
  });
});

describe('media playlist', () => {
  const text = [
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

  test('parses sequence, durations, discontinuities and program date-time', () => {
    const playlist = parseMediaPlaylist(text);
    expect(playlist).toEqual({
      mediaSequence: 100,
      targetDuration: 2,
      endList: false,
      segments: [
        { uri: 'seg_100.ts', duration: 2, discontinuity: false, programDateTime: '2026-11-21T02:46:29.471+0000' },
        { uri: 'seg_101.ts', duration: 1.5, discontinuity: true },
      ],
    });
    expect(lastSequence(playlist)).toBe(101);
    expect(lastSequence(parseMediaPlaylist('#EXTM3U\n'))).toBeUndefined();
  });

  test('ENDLIST is added once', () => {
    const ended = withEndList(text);
    expect(ended.endsWith('seg_101.ts\n#EXT-X-ENDLIST\n')).toBe(true);
    expect(withEndList(ended)).toBe(ended);
    expect(parseMediaPlaylist(ended).endList).toBe(true);
    expect(withEndList('#EXTM3U')).toBe('#EXTM3U\n#EXT-X-ENDLIST\n');
  });
});
