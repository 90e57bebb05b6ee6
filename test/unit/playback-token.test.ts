import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import { PlaybackAccess, tokenOf, type AccessSnapshot } from '../../src/playback/playback-access';
import { CLOCK_SKEW_SECONDS, MAX_TOKEN_LENGTH, parsePlaybackToken, signPlaybackToken } from '../../src/playback/playback-token';
import { withPlaybackToken } from '../../src/playback/playback-uris';
import { redactSecrets } from '../../src/observability/logger';

const KEY = { id: 'KeyA000000000001', secret: crypto.randomBytes(32) };
const OTHER_KEY = { id: 'KeyB000000000002', secret: crypto.randomBytes(32) };
const PID = 'P'.repeat(20);
const OTHER_PID = 'Q'.repeat(20);
const NOW = 1_800_000_000_000;
const nowSeconds = NOW / 1000;

function access(keys = [KEY], revoked: string[] = []): PlaybackAccess {
  const gate = new PlaybackAccess();
  const snapshot: AccessSnapshot = { signed: [PID, OTHER_PID], keys: keys.map((k) => ({ id: k.id, secret: k.secret.toString('base64url'), revoked: revoked.includes(k.id) })) };
  gate.update(snapshot);
  return gate;
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
/** A token with any header and claims, signed properly with `key`. */
function forged(header: unknown, claims: unknown, key = KEY): string {
  const signed = `${b64(header)}.${b64(claims)}`;
  return `${signed}.${crypto.createHmac('sha256', key.secret).update(signed).digest('base64url')}`;
}

describe('playback tokens', () => {
  test('a token the origin signs is a JWT that a common JWT library verifies, and one that library signs opens the stream', () => {
    const token = signPlaybackToken({ exp: nowSeconds + 60, pid: PID }, KEY);
    const decoded = jwt.verify(token, KEY.secret, { algorithms: ['HS256'], clockTimestamp: nowSeconds, complete: true });
    expect(decoded.header).toEqual({ alg: 'HS256', typ: 'JWT', kid: KEY.id });
    expect(decoded.payload).toEqual({ exp: nowSeconds + 60, pid: PID });

    const theirs = jwt.sign({ exp: nowSeconds + 60, pid: [PID], vid: 'alice' }, KEY.secret, { algorithm: 'HS256', keyid: KEY.id, noTimestamp: true });
    expect(access().check(PID, theirs, undefined, NOW)).toEqual({ allowed: true, token: theirs, viewer: 'v:alice', expiresAt: (nowSeconds + 60) * 1000 });
  });

  test('public streams need nothing; signed ones refuse each kind of bad token with its own reason', () => {
    const gate = access([KEY, OTHER_KEY], [OTHER_KEY.id]);
    const good = signPlaybackToken({ exp: nowSeconds + 60, pid: PID }, KEY);
    expect(gate.check('R'.repeat(20), undefined, undefined, NOW)).toEqual({ allowed: true });
    expect(gate.check(PID, good, undefined, NOW).allowed).toBe(true);
    const codeOf = (token: string | undefined, origin?: string) => {
      const result = gate.check(PID, token, origin, NOW);
      return result.allowed ? 'allowed' : result.code;
    };
    expect(codeOf(undefined)).toBe('token_required');
    expect(codeOf('')).toBe('token_required');
    expect(codeOf(signPlaybackToken({ exp: nowSeconds - CLOCK_SKEW_SECONDS - 1, pid: PID }, KEY))).toBe('token_expired');
    // Within the clock skew allowance either way.
    expect(codeOf(signPlaybackToken({ exp: nowSeconds - CLOCK_SKEW_SECONDS + 1, pid: PID }, KEY))).toBe('allowed');
    expect(codeOf(signPlaybackToken({ exp: nowSeconds + 600, nbf: nowSeconds + CLOCK_SKEW_SECONDS - 1 }, KEY))).toBe('allowed');
    expect(codeOf(signPlaybackToken({ exp: nowSeconds + 600, nbf: nowSeconds + CLOCK_SKEW_SECONDS + 1 }, KEY))).toBe('token_not_yet_valid');
    expect(codeOf(signPlaybackToken({ exp: nowSeconds + 60, pid: OTHER_PID }, KEY))).toBe('token_wrong_stream');
    expect(codeOf(signPlaybackToken({ exp: nowSeconds + 60, pid: [OTHER_PID, 'S'.repeat(20)] }, KEY))).toBe('token_wrong_stream');
    expect(codeOf(signPlaybackToken({ exp: nowSeconds + 60 }, KEY))).toBe('allowed');
    expect(codeOf(signPlaybackToken({ exp: nowSeconds + 60, pid: PID }, OTHER_KEY))).toBe('token_revoked');
    expect(codeOf(signPlaybackToken({ exp: nowSeconds + 60, pid: PID }, { id: 'Unknown000000000', secret: KEY.secret }))).toBe('token_invalid');
    const withOrigins = signPlaybackToken({ exp: nowSeconds + 60, origins: ['https://school.example'] }, KEY);
    expect(codeOf(withOrigins, 'https://school.example')).toBe('allowed');
    expect(codeOf(withOrigins, 'https://evil.example')).toBe('origin_not_allowed');
    expect(codeOf(withOrigins)).toBe('allowed');
    // Tampered: a claim changed after signing, or the signature changed.
    const [header, , signature] = good.split('.');
    expect(codeOf(`${header}.${b64({ exp: nowSeconds + 60, pid: PID, vid: 'x' })}.${signature}`)).toBe('token_invalid');
    expect(codeOf(`${good.slice(0, -2)}${good.endsWith('AA') ? 'BB' : 'AA'}`)).toBe('token_invalid');
  });

  test.each([
    ['garbage', 'not-a-token'],
    ['four parts', 'a.b.c.d'],
    ['empty parts', '..'],
    ['non-base64url', 'a+b.c/d.e='],
    ['header not JSON', `${b64('{')}.${b64({ exp: 1 })}.sig`],
    ['header an array', forged([], { exp: nowSeconds + 60 })],
    ['alg none, unsigned', `${b64({ alg: 'none', kid: KEY.id })}.${b64({ exp: nowSeconds + 60 })}.`],
    ['alg none', forged({ alg: 'none', kid: KEY.id }, { exp: nowSeconds + 60 })],
    ['alg HS512', forged({ alg: 'HS512', kid: KEY.id }, { exp: nowSeconds + 60 })],
    ['alg RS256', forged({ alg: 'RS256', kid: KEY.id }, { exp: nowSeconds + 60 })],
    ['alg in lower case', forged({ alg: 'hs256', kid: KEY.id }, { exp: nowSeconds + 60 })],
    ['no kid', forged({ alg: 'HS256' }, { exp: nowSeconds + 60 })],
    ['kid a path', forged({ alg: 'HS256', kid: '../../etc/passwd' }, { exp: nowSeconds + 60 })],
    ['extra header field (jku)', forged({ alg: 'HS256', kid: KEY.id, jku: 'https://evil.example/keys' }, { exp: nowSeconds + 60 })],
    ['typ not JWT', forged({ alg: 'HS256', kid: KEY.id, typ: 'JOSE+JSON' }, { exp: nowSeconds + 60 })],
    ['no exp', forged({ alg: 'HS256', kid: KEY.id }, { pid: PID })],
    ['exp a string', forged({ alg: 'HS256', kid: KEY.id }, { exp: String(nowSeconds + 60) })],
    ['exp a fraction', forged({ alg: 'HS256', kid: KEY.id }, { exp: nowSeconds + 60.5 })],
    ['exp huge', forged({ alg: 'HS256', kid: KEY.id }, { exp: 1e300 })],
    ['claims an array', forged({ alg: 'HS256', kid: KEY.id }, [nowSeconds + 60])],
    ['claims null', forged({ alg: 'HS256', kid: KEY.id }, null)],
    ['pid an object', forged({ alg: 'HS256', kid: KEY.id }, { exp: nowSeconds + 60, pid: { $ne: 1 } })],
    ['origins a string', forged({ alg: 'HS256', kid: KEY.id }, { exp: nowSeconds + 60, origins: '*' })],
    ['origins not origins', forged({ alg: 'HS256', kid: KEY.id }, { exp: nowSeconds + 60, origins: ['javascript:alert(1)'] })],
    ['vid with a newline', forged({ alg: 'HS256', kid: KEY.id }, { exp: nowSeconds + 60, vid: 'a\nb' })],
    ['too long', `${'a'.repeat(MAX_TOKEN_LENGTH)}.b.c`],
  ])('a malformed token is refused as invalid: %s', (_what, token) => {
    expect(parsePlaybackToken(token).ok).toBe(false);
    expect(access().check(PID, token, undefined, NOW)).toMatchObject({ allowed: false, code: 'token_invalid' });
  });

  test('a signing key that appears later makes its tokens valid; one revoked later stops them', () => {
    const gate = access([]);
    const token = signPlaybackToken({ exp: nowSeconds + 60 }, KEY);
    expect(gate.check(PID, token, undefined, NOW)).toMatchObject({ code: 'token_invalid' });
    gate.update({ signed: [PID], keys: [{ id: KEY.id, secret: KEY.secret.toString('base64url'), revoked: false }] });
    expect(gate.check(PID, token, undefined, NOW).allowed).toBe(true);
    gate.update({ signed: [PID], keys: [{ id: KEY.id, secret: KEY.secret.toString('base64url'), revoked: true }] });
    expect(gate.check(PID, token, undefined, NOW)).toMatchObject({ code: 'token_revoked' });
    gate.update({ signed: [], keys: [] });
    expect(gate.check(PID, token, undefined, NOW)).toEqual({ allowed: true });
  });

  test('viewers are counted by viewer id, else by token', () => {
    const gate = access();
    const viewer = (claims: object) => {
      const result = gate.check(PID, signPlaybackToken({ exp: nowSeconds + 60, ...claims }, KEY), undefined, NOW);
      return result.allowed && result.token !== undefined ? result.viewer : undefined;
    };
    expect(viewer({ vid: 'alice' })).toBe('v:alice');
    expect(viewer({ vid: 'alice', iat: 1 })).toBe('v:alice');
    expect(viewer({})).toMatch(/^t:[A-Za-z0-9_-]{22}$/);
    expect(viewer({})).toBe(viewer({}));
    expect(viewer({ iat: 5 })).not.toBe(viewer({}));
  });

  test('the token is written into every URI of a playlist, tags included, and read from a query string', () => {
    const playlist = [
      '#EXTM3U',
      '#EXT-X-MAP:URI="init_1.mp4"',
      '#EXT-X-PART:DURATION=0.33334,URI="seg_5.0.m4s",INDEPENDENT=YES',
      '#EXTINF:2.00000,',
      'seg_4.m4s',
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg_5.1.m4s"',
      '#EXT-X-RENDITION-REPORT:URI="../audio/index.m3u8",LAST-MSN=5,LAST-PART=0',
      '',
    ].join('\n');
    expect(withPlaybackToken(playlist, 'a.b-c_d')).toBe(
      [
        '#EXTM3U',
        '#EXT-X-MAP:URI="init_1.mp4?token=a.b-c_d"',
        '#EXT-X-PART:DURATION=0.33334,URI="seg_5.0.m4s?token=a.b-c_d",INDEPENDENT=YES',
        '#EXTINF:2.00000,',
        'seg_4.m4s?token=a.b-c_d',
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg_5.1.m4s?token=a.b-c_d"',
        '#EXT-X-RENDITION-REPORT:URI="../audio/index.m3u8?token=a.b-c_d",LAST-MSN=5,LAST-PART=0',
        '',
      ].join('\n'),
    );
    expect(withPlaybackToken('#EXTM3U\nlow/index.m3u8?vsid=abcdefgh\n', 'T')).toBe('#EXTM3U\nlow/index.m3u8?vsid=abcdefgh&token=T\n');
    expect(tokenOf('_HLS_msn=4&token=x.y.z&_HLS_part=1')).toBe('x.y.z');
    expect(tokenOf('_HLS_msn=4')).toBeUndefined();
  });
});

test('a playback token anywhere in a log message is redacted', () => {
  const token = signPlaybackToken({ exp: nowSeconds + 60, pid: PID }, KEY);
  expect(redactSecrets(`GET /hls/${PID}/master.m3u8?token=${token}&vsid=x failed`)).toBe(`GET /hls/${PID}/master.m3u8?token=eyJ[redacted]&vsid=x failed`);
  expect(redactSecrets('key sk_abcdefgh and tok_abcdefgh')).toBe('key sk_[redacted] and tok_[redacted]');
});
