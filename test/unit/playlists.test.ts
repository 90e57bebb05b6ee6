import { parseMediaPlaylist } from '../../scripts/lib/media-playlist';
import { buildMasterPlaylist } from '../../src/packaging/master-playlist';
import { recordingEntry, renderLivePlaylist, renderRecording, withEndList, withGapVersion } from '../../src/packaging/media-playlist';
import { Timeline, type TimelineEvent } from '../../src/packaging/timeline';
import { describeRenditions, planLadder, type Profile } from '../../src/transcode/ladder';

const rungs = [
  { name: '720p', height: 720, videoBitrateKbps: 2800 },
  { name: '360p', height: 360, videoBitrateKbps: 800 },
];
const ladder: Profile = { kind: 'ladder', rungs, sourceRung: false };
const plan = (source: Parameters<typeof planLadder>[0], profile: Profile = ladder) => planLadder(source, { profile, audioBitrateKbps: 128 });
const master = (p: ReturnType<typeof plan>, options: { uriPrefix: string; playlist: 'index.m3u8' | 'recording.m3u8'; measured?: Record<string, number> }) =>
  buildMasterPlaylist(describeRenditions(p, options.measured ?? {}), options);

describe('master playlist', () => {
  test('video renditions share one audio rendition; URIs point into the session', () => {
    const p = plan({ video: { codec: 'h264', width: 1280, height: 720, frameRate: 30 }, audio: { codec: 'mp3' } });
    expect(master(p, { uriPrefix: 'sessions/abc/', playlist: 'index.m3u8' })).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:6',
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
    const p = plan(
      { video: { codec: 'h264', width: 1280, height: 720, frameRate: 30, codecString: 'avc1.64001f' }, audio: { codec: 'aac', codecString: 'mp4a.40.2', channels: 2 } },
      { kind: 'passthrough', rungs: [], sourceRung: true },
    );
    const text = master(p, { uriPrefix: '', playlist: 'recording.m3u8', measured: { source: 2500, audio: 130 } });
    // peak: (2500 + 130) * 1.2 * 1.1, average: (2500 + 130) * 1.05
    expect(text).toContain(
      '#EXT-X-STREAM-INF:BANDWIDTH=3471600,AVERAGE-BANDWIDTH=2761500,RESOLUTION=1280x720,FRAME-RATE=30.000,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"\nsource/recording.m3u8',
    );
  });

  test('video only: no audio group; unknown frame rate: no FRAME-RATE', () => {
    const text = master(plan({ video: { codec: 'h264', width: 640, height: 360 } }), { uriPrefix: '', playlist: 'index.m3u8' });
    expect(text).not.toContain('EXT-X-MEDIA');
    expect(text).not.toContain('FRAME-RATE');
    expect(text).toContain('CODECS="avc1.4d401f"');
  });

  test('audio only: one variant per audio rendition', () => {
    expect(master(plan({ audio: { codec: 'mp3' } }), { uriPrefix: '', playlist: 'index.m3u8' })).toBe(
      '#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-STREAM-INF:BANDWIDTH=140800,AVERAGE-BANDWIDTH=134400,CODECS="mp4a.40.2"\naudio/index.m3u8\n',
    );
  });
});

/** Segments of six 1/3 s parts (the last one in progress with two), as the packager reports them. */
function timeline(segments: number, options: { listSize?: number; discontinuityAt?: number; inProgressParts?: number } = {}): Timeline {
  const t = new Timeline({ listSize: options.listSize ?? 4, segmentSeconds: 2 });
  const at = (msn: number) => new Date(Date.UTC(2026, 11, 6, 12, 0, 0) + (msn - 1) * 2000).toISOString();
  const part = (msn: number, index: number): TimelineEvent => ({
    type: 'part',
    msn,
    part: { index, duration: 1 / 3, independent: index === 0, offset: index * 1000, length: 1000 },
    ...(index === 0 && {
      start: { discontinuity: msn === options.discontinuityAt, programDateTime: at(msn), init: msn >= (options.discontinuityAt ?? Infinity) ? 'init_2.mp4' : 'init_1.mp4' },
    }),
  });
  for (let msn = 1; msn <= segments; msn++) {
    for (let index = 0; index < 6; index++) t.apply(part(msn, index));
    t.apply({ type: 'segment', msn, duration: 2 });
  }
  for (let index = 0; index < (options.inProgressParts ?? 0); index++) t.apply(part(segments + 1, index));
  return t;
}

const LOW = { mode: 'low' as const, partTarget: 0.334, skip: false, reports: [] };

describe('live media playlist (low latency)', () => {
  test('golden: the window, parts of the last three target durations, the segment in progress, the hint, the other renditions', () => {
    const text = renderLivePlaylist(timeline(5, { inProgressParts: 2 }), { ...LOW, reports: [{ rendition: 'audio', last: { msn: 6, part: 2 } }] });
    const parts = (msn: number, count = 6) => Array.from({ length: count }, (_, i) => `#EXT-X-PART:DURATION=0.333,URI="seg_${msn}.${i}.m4s"${i === 0 ? ',INDEPENDENT=YES' : ''}`);
    expect(text).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:9',
        '#EXT-X-TARGETDURATION:2',
        '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.000,HOLD-BACK=6.000,PART-HOLD-BACK=1.002',
        '#EXT-X-PART-INF:PART-TARGET=0.334',
        '#EXT-X-MEDIA-SEQUENCE:2',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-MAP:URI="init_1.mp4"',
        '#EXT-X-PROGRAM-DATE-TIME:2026-12-06T12:00:02.000Z',
        '#EXTINF:2.000,',
        'seg_2.m4s',
        '#EXT-X-PROGRAM-DATE-TIME:2026-12-06T12:00:04.000Z',
        '#EXTINF:2.000,',
        'seg_3.m4s',
        '#EXT-X-PROGRAM-DATE-TIME:2026-12-06T12:00:06.000Z',
        ...parts(4),
        '#EXTINF:2.000,',
        'seg_4.m4s',
        '#EXT-X-PROGRAM-DATE-TIME:2026-12-06T12:00:08.000Z',
        ...parts(5),
        '#EXTINF:2.000,',
        'seg_5.m4s',
        '#EXT-X-PROGRAM-DATE-TIME:2026-12-06T12:00:10.000Z',
        ...parts(6, 2),
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg_6.2.m4s"',
        '#EXT-X-RENDITION-REPORT:URI="../audio/index.m3u8",LAST-MSN=6,LAST-PART=2',
        '',
      ].join('\n'),
    );
    // And an independent parser reads it the same way.
    const parsed = parseMediaPlaylist(text);
    expect(parsed.segments.map((s) => s.sequence)).toEqual([2, 3, 4, 5]);
    expect(parsed.partial).toEqual({
      sequence: 6,
      parts: [
        { uri: 'seg_6.0.m4s', duration: 0.333, independent: true },
        { uri: 'seg_6.1.m4s', duration: 0.333, independent: false },
      ],
    });
    expect(parsed.hint).toBe('seg_6.2.m4s');
    expect(parsed.serverControl).toMatchObject({ canBlockReload: true, canSkipUntil: 12, partHoldBack: 1.002 });
  });

  test("right after a segment completes, the hint names the next segment's first part", () => {
    expect(renderLivePlaylist(timeline(3), LOW)).toContain('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg_4.0.m4s"');
  });

  test('a delta update (_HLS_skip) replaces the segments older than the skip boundary', () => {
    const t = timeline(12, { listSize: 10, inProgressParts: 1 });
    const full = parseMediaPlaylist(renderLivePlaylist(t, LOW));
    const delta = renderLivePlaylist(t, { ...LOW, skip: true });
    // 10 segments of 2 s and a part: those ending at least 12 s before the end are skipped.
    expect(delta).toContain('#EXT-X-SKIP:SKIPPED-SEGMENTS=4');
    const parsed = parseMediaPlaylist(delta);
    expect(parsed.mediaSequence).toBe(full.mediaSequence);
    expect(parsed.segments.map((s) => s.sequence)).toEqual(full.segments.slice(4).map((s) => s.sequence));
    expect(parsed.segments[0]!.map).toBe('init_1.mp4');
  });

  test('discontinuities: tagged where a run begins, with its new init segment, and counted once they leave the window', () => {
    const t = timeline(6, { listSize: 3, discontinuityAt: 4 });
    const text = renderLivePlaylist(t, LOW);
    expect(text).toContain('#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init_2.mp4"\n#EXT-X-PROGRAM-DATE-TIME:2026-12-06T12:00:06.000Z');
    expect(text).not.toContain('DISCONTINUITY-SEQUENCE');
    for (let index = 0; index < 6; index++)
      t.apply({
        type: 'part',
        msn: 7,
        part: { index, duration: 1 / 3, independent: index === 0, offset: 0, length: 1 },
        ...(index === 0 && { start: { discontinuity: false, programDateTime: '2026-12-06T12:00:12.000Z', init: 'init_2.mp4' } }),
      });
    t.apply({ type: 'segment', msn: 7, duration: 2 });
    const later = parseMediaPlaylist(renderLivePlaylist(t, LOW));
    expect(later.mediaSequence).toBe(5);
    expect(later.discontinuitySequence).toBe(1);
    expect(later.segments.every((s) => s.discontinuitySequence === 1)).toBe(true);
  });

  test('gaps: time a rendition lost is listed without media (EXT-X-GAP), so its numbers stay level with the others; standard mode says version 8 while one is listed', () => {
    const t = timeline(3, { listSize: 4 });
    const start = (msn: number, discontinuity = false, init = 'init_1.mp4') => ({
      discontinuity,
      programDateTime: new Date(Date.UTC(2026, 11, 6, 12, 0, 0) + (msn - 1) * 2000).toISOString(),
      init,
    });
    t.apply({ type: 'gap', msn: 4, duration: 2, start: start(4) });
    t.apply({ type: 'gap', msn: 5, duration: 2, start: start(5) });
    t.apply({ type: 'part', msn: 6, part: { index: 0, duration: 1 / 3, independent: true, offset: 0, length: 1 }, start: start(6, true, 'init_2.mp4') });
    const low = renderLivePlaylist(t, LOW);
    expect(low).toContain(
      [
        'seg_3.m4s',
        '#EXT-X-PROGRAM-DATE-TIME:2026-12-06T12:00:06.000Z',
        '#EXT-X-GAP',
        '#EXTINF:2.000,',
        'seg_4.m4s',
        '#EXT-X-PROGRAM-DATE-TIME:2026-12-06T12:00:08.000Z',
        '#EXT-X-GAP',
        '#EXTINF:2.000,',
        'seg_5.m4s',
        '#EXT-X-DISCONTINUITY',
        '#EXT-X-MAP:URI="init_2.mp4"',
        '#EXT-X-PROGRAM-DATE-TIME:2026-12-06T12:00:10.000Z',
        '#EXT-X-PART:DURATION=0.333,URI="seg_6.0.m4s",INDEPENDENT=YES',
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg_6.1.m4s"',
      ].join('\n'),
    );
    // A strict parser takes it: no part in a gap, and a hint after it.
    const parsed = parseMediaPlaylist(low);
    expect(parsed.segments.map((s) => [s.sequence, s.gap])).toEqual([
      [2, false],
      [3, false],
      [4, true],
      [5, true],
    ]);
    expect(parsed.partial?.sequence).toBe(6);
    const standard = renderLivePlaylist(t, { ...LOW, mode: 'standard' });
    expect(standard).toContain('#EXT-X-VERSION:8\n');
    expect(
      parseMediaPlaylist(standard)
        .segments.filter((s) => s.gap)
        .map((s) => s.uri),
    ).toEqual(['seg_4.m4s', 'seg_5.m4s']);
    // Once the gaps have left the window, version 6 again.
    for (let msn = 6; msn <= 9; msn++) {
      if (msn > 6) t.apply({ type: 'part', msn, part: { index: 0, duration: 1 / 3, independent: true, offset: 0, length: 1 }, start: start(msn, false, 'init_2.mp4') });
      t.apply({ type: 'segment', msn, duration: 2 });
    }
    expect(renderLivePlaylist(t, { ...LOW, mode: 'standard' })).toContain('#EXT-X-VERSION:6\n');
  });

  test('standard mode: the same segments, no parts, hints or blocking; an ended playlist has ENDLIST and no parts', () => {
    const t = timeline(3, { inProgressParts: 2 });
    const standard = renderLivePlaylist(t, { ...LOW, mode: 'standard' });
    expect(standard).not.toMatch(/PART|PRELOAD|SERVER-CONTROL|RENDITION-REPORT/);
    expect(standard.split('\n').slice(0, 3)).toEqual(['#EXTM3U', '#EXT-X-VERSION:6', '#EXT-X-TARGETDURATION:2']);
    expect(parseMediaPlaylist(standard).segments.map((s) => s.uri)).toEqual(['seg_1.m4s', 'seg_2.m4s', 'seg_3.m4s']);
    t.apply({ type: 'ended' });
    const ended = renderLivePlaylist(t, LOW);
    expect(ended).not.toMatch(/PART|PRELOAD/);
    expect(ended.endsWith('seg_3.m4s\n#EXT-X-ENDLIST\n')).toBe(true);
  });
});

describe('recording playlist', () => {
  const segments = [
    { msn: 1, duration: 2, discontinuity: false, programDateTime: '2026-12-06T12:00:00.000Z', init: 'init_1.mp4' },
    { msn: 2, duration: 2, discontinuity: false, programDateTime: '2026-12-06T12:00:02.000Z', init: 'init_1.mp4' },
    { msn: 3, duration: 4.5, discontinuity: true, programDateTime: '2026-12-06T12:01:00.000Z', init: 'init_3.mp4' },
  ];

  test('an EVENT playlist while it grows, a VOD with the exact target duration once ended; a new run brings its init segment', () => {
    const growing = renderRecording(segments.slice(0, 2), { segmentSeconds: 2, ended: false });
    expect(growing).toContain('#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:EVENT');
    expect(growing + recordingEntry(segments[2]!, 'init_1.mp4').join('\n') + '\n').toBe(renderRecording(segments, { segmentSeconds: 2, ended: false }));
    const vod = parseMediaPlaylist(renderRecording(segments, { segmentSeconds: 2, ended: true }));
    expect(vod).toMatchObject({ playlistType: 'VOD', targetDuration: 5, endList: true });
    expect(vod.segments.map((s) => [s.uri, s.map, s.discontinuity])).toEqual([
      ['seg_1.m4s', 'init_1.mp4', false],
      ['seg_2.m4s', 'init_1.mp4', false],
      ['seg_3.m4s', 'init_3.mp4', true],
    ]);
  });

  test('a gap is listed without media, and makes the recording version 8, growing or ended', () => {
    const gap = { msn: 4, duration: 2, discontinuity: false, programDateTime: '2026-12-06T12:01:04.500Z', init: 'init_3.mp4', gap: true as const };
    const growing = renderRecording(segments, { segmentSeconds: 2, ended: false });
    expect(growing).toContain('#EXT-X-VERSION:6\n');
    const appended = withGapVersion(growing) + recordingEntry(gap, 'init_3.mp4').join('\n') + '\n';
    expect(appended).toBe(renderRecording([...segments, gap], { segmentSeconds: 2, ended: false }));
    expect(appended.endsWith('#EXT-X-PROGRAM-DATE-TIME:2026-12-06T12:01:04.500Z\n#EXT-X-GAP\n#EXTINF:2.000,\nseg_4.m4s\n')).toBe(true);
    const vod = parseMediaPlaylist(renderRecording([...segments, gap], { segmentSeconds: 2, ended: true }));
    expect(vod.version).toBe(8);
    expect(vod.segments.map((s) => s.gap)).toEqual([false, false, false, true]);
  });

  test('ENDLIST is added once', () => {
    const ended = withEndList('#EXTM3U\nseg_1.m4s\n');
    expect(ended.endsWith('seg_1.m4s\n#EXT-X-ENDLIST\n')).toBe(true);
    expect(withEndList(ended)).toBe(ended);
    expect(withEndList('#EXTM3U')).toBe('#EXTM3U\n#EXT-X-ENDLIST\n');
  });
});
