import crypto from 'node:crypto';
import { allowsOrigin, coversPlaybackId, parsePlaybackToken, timeCheck, verifySignature, type PlaybackClaims } from './playback-token';

/** The query parameter a viewer's token rides in, on every HLS, status and page URL (architecture.md). */
export const TOKEN_PARAM = 'token';

/**
 * What a node needs to decide who may watch, from the database (src/playback/playback-service.ts):
 * the signed streams and every signing key. Sent as it is to delivery processes.
 */
export interface AccessSnapshot {
  signed: string[];
  keys: Array<{ id: string; secret: string; revoked: boolean }>;
}

export const DENIALS = {
  token_required: 'This stream is private: a playback token is required.',
  token_invalid: 'The playback token is not valid.',
  token_expired: 'The playback token has expired.',
  token_not_yet_valid: 'The playback token is not valid yet.',
  token_revoked: 'The playback token was signed with a key that has been revoked.',
  token_wrong_stream: 'The playback token is for another stream.',
  origin_not_allowed: 'The playback token does not allow this page to play the stream.',
} as const;
export type Denial = keyof typeof DENIALS;

export type Access =
  /** A signed stream's token, to be written into every URI handed out, and who it counts as. */
  | { allowed: true; token: string; viewer: string; expiresAt: number; origins?: string[] }
  | { allowed: true; token?: undefined }
  | { allowed: false; code: Denial; message: string };

type Verified = { ok: true; keyId: string; claims: PlaybackClaims; viewer: string } | { ok: false; code: Denial };

/** Tokens remembered once checked; past this many the memory starts again, so that made-up tokens cannot grow it. */
const MAX_REMEMBERED = 10_000;

/**
 * Decides whether a request may have a stream's media: any request for a public stream, and a
 * request for a signed one with a valid token for it. A token's signature is checked once and
 * remembered; its expiry, its key's revocation and the stream it names are checked every time.
 */
export class PlaybackAccess {
  private signed = new Set<string>();
  private keys = new Map<string, { secret: Buffer; revoked: boolean }>();
  private keysVersion = '';
  private readonly verified = new Map<string, Verified>();

  update(snapshot: AccessSnapshot): void {
    this.signed = new Set(snapshot.signed);
    const version = snapshot.keys.map((k) => `${k.id}:${k.secret}`).join(',');
    this.keys = new Map(snapshot.keys.map((k) => [k.id, { secret: Buffer.from(k.secret, 'base64url'), revoked: k.revoked }]));
    // A key that appears (or changes) may make a remembered refusal wrong.
    if (version !== this.keysVersion) this.verified.clear();
    this.keysVersion = version;
  }

  /** `origin`: the browser page asking (the Origin header), when there is one. */
  check(playbackId: string, token: string | null | undefined, origin: string | undefined, nowMs: number): Access {
    return this.signed.has(playbackId) ? this.checkToken(playbackId, token, origin, nowMs) : { allowed: true };
  }

  /** For a stream known to be signed (its record was just read). */
  checkToken(playbackId: string, token: string | null | undefined, origin: string | undefined, nowMs: number): Access {
    if (!token) return deny('token_required');
    const verified = this.verify(token);
    if (!verified.ok) return deny(verified.code);
    const { claims } = verified;
    if (this.keys.get(verified.keyId)?.revoked !== false) return deny('token_revoked');
    const time = timeCheck(claims, Math.floor(nowMs / 1000));
    if (time === 'expired') return deny('token_expired');
    if (time === 'not_yet_valid') return deny('token_not_yet_valid');
    if (!coversPlaybackId(claims, playbackId)) return deny('token_wrong_stream');
    if (!allowsOrigin(claims, origin)) return deny('origin_not_allowed');
    return { allowed: true, token, viewer: verified.viewer, expiresAt: claims.exp * 1000, ...(claims.origins && { origins: claims.origins }) };
  }

  private verify(token: string): Verified {
    const known = this.verified.get(token);
    if (known) return known;
    const parsed = parsePlaybackToken(token);
    let result: Verified;
    if (!parsed.ok) {
      result = { ok: false, code: 'token_invalid' };
    } else {
      const key = this.keys.get(parsed.keyId);
      if (!key || !verifySignature(parsed, key.secret)) result = { ok: false, code: 'token_invalid' };
      else result = { ok: true, keyId: parsed.keyId, claims: parsed.claims, viewer: viewerOf(parsed.claims, token) };
    }
    if (this.verified.size >= MAX_REMEMBERED) this.verified.clear();
    // Only tokens that could be real are remembered: a flood of garbage is refused unremembered.
    if (result.ok || parsed.ok) this.verified.set(token, result);
    return result;
  }
}

function deny(code: Denial): Access {
  return { allowed: false, code, message: DENIALS[code] };
}

/** A signed stream's viewers are its tokens, or the viewer ids their tokens name. */
function viewerOf(claims: PlaybackClaims, token: string): string {
  return claims.vid !== undefined ? `v:${claims.vid}` : `t:${crypto.createHash('sha256').update(token).digest('base64url').slice(0, 22)}`;
}

/** The token of a query string, if any. */
export function tokenOf(query: string): string | undefined {
  if (!query.includes(`${TOKEN_PARAM}=`)) return undefined;
  return new URLSearchParams(query).get(TOKEN_PARAM) ?? undefined;
}
