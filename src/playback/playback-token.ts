import crypto from 'node:crypto';
import { ID_PATTERN } from '../streams/keys';

// Playback tokens are JSON Web Tokens (RFC 7519) signed with HMAC-SHA256 under a playback signing
// key: any JWT library mints one, and so do a few lines of node:crypto (README). The header names
// the key (`kid`); the claims say until when (`exp`, required), from when (`nbf`), which playback
// ids (`pid`), which embedding pages (`origins`) and which viewer (`vid`).

/** Longer than any token this origin or a customer's backend has reason to mint; anything longer is refused unread. */
export const MAX_TOKEN_LENGTH = 2048;
/** Clocks of the origin and of a customer's backend may disagree by this much either way. */
export const CLOCK_SKEW_SECONDS = 30;

export interface PlaybackClaims {
  /** Expiry, in seconds since the epoch. */
  exp: number;
  nbf?: number;
  iat?: number;
  /** The playback ids the token opens; all signed streams when absent. */
  pid?: string | string[];
  /** Pages (scheme://host[:port]) allowed to embed the player or ask for the stream from a browser. */
  origins?: string[];
  /** Counted as one viewer, whoever uses the token. */
  vid?: string;
}

export interface SigningKey {
  id: string;
  secret: Buffer;
}

const HEADER_FIELDS = new Set(['alg', 'typ', 'kid']);
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;
const VIEWER_ID = /^[\x21-\x7e]{1,64}$/;

/** A token signed with `key` (the API's mint, and tests). */
export function signPlaybackToken(claims: PlaybackClaims, key: SigningKey): string {
  const header = encode({ alg: 'HS256', typ: 'JWT', kid: key.id });
  const payload = encode(claims);
  return `${header}.${payload}.${signature(`${header}.${payload}`, key.secret)}`;
}

export type Parsed = { ok: true; keyId: string; claims: PlaybackClaims; signed: string; signature: Buffer } | { ok: false; reason: string };

/**
 * A token's parts, checked for shape only: three base64url parts, a header asking for HS256 with
 * a key id and nothing else, and claims of the documented types. The signature is checked by
 * `verifySignature` once the key is known.
 */
export function parsePlaybackToken(token: string): Parsed {
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'too long' };
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) return { ok: false, reason: 'not a JWT' };
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decode(headerPart);
  if (!isObject(header) || Object.keys(header).some((field) => !HEADER_FIELDS.has(field))) return { ok: false, reason: 'bad header' };
  if (header.alg !== 'HS256') return { ok: false, reason: 'algorithm must be HS256' };
  if (header.typ !== undefined && header.typ !== 'JWT') return { ok: false, reason: 'bad header' };
  if (typeof header.kid !== 'string' || !ID_PATTERN.test(header.kid)) return { ok: false, reason: 'no key id' };
  const claims = decode(payloadPart);
  const problem = claimsProblem(claims);
  if (problem) return { ok: false, reason: problem };
  return { ok: true, keyId: header.kid, claims: claims as PlaybackClaims, signed: `${headerPart}.${payloadPart}`, signature: Buffer.from(signaturePart, 'base64url') };
}

/** In constant time, whatever the signature given. */
export function verifySignature(parsed: Extract<Parsed, { ok: true }>, secret: Buffer): boolean {
  const expected = crypto.createHmac('sha256', secret).update(parsed.signed).digest();
  return parsed.signature.length === expected.length && crypto.timingSafeEqual(parsed.signature, expected);
}

export type TimeCheck = 'valid' | 'expired' | 'not_yet_valid';

export function timeCheck(claims: PlaybackClaims, nowSeconds: number): TimeCheck {
  if (claims.exp + CLOCK_SKEW_SECONDS <= nowSeconds) return 'expired';
  if (claims.nbf !== undefined && claims.nbf - CLOCK_SKEW_SECONDS > nowSeconds) return 'not_yet_valid';
  return 'valid';
}

export function coversPlaybackId(claims: PlaybackClaims, playbackId: string): boolean {
  if (claims.pid === undefined) return true;
  return typeof claims.pid === 'string' ? claims.pid === playbackId : claims.pid.includes(playbackId);
}

/** A browser request's page origin is allowed when the token names no origins, or names it. */
export function allowsOrigin(claims: PlaybackClaims, origin: string | undefined): boolean {
  return claims.origins === undefined || origin === undefined || claims.origins.includes(origin);
}

function claimsProblem(claims: unknown): string | undefined {
  if (!isObject(claims)) return 'claims are not an object';
  if (!isSeconds(claims.exp)) return 'exp is required';
  if (claims.nbf !== undefined && !isSeconds(claims.nbf)) return 'bad nbf';
  if (claims.iat !== undefined && !isSeconds(claims.iat)) return 'bad iat';
  const pid = claims.pid;
  if (pid !== undefined && typeof pid !== 'string' && !(Array.isArray(pid) && pid.length <= 100 && pid.every((id) => typeof id === 'string'))) return 'bad pid';
  const origins = claims.origins;
  if (origins !== undefined && !(Array.isArray(origins) && origins.length <= 20 && origins.every((o) => typeof o === 'string' && ORIGIN.test(o)))) return 'bad origins';
  if (claims.vid !== undefined && !(typeof claims.vid === 'string' && VIEWER_ID.test(claims.vid))) return 'bad vid';
  return undefined;
}

function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decode(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

function signature(signed: string, secret: Buffer): string {
  return crypto.createHmac('sha256', secret).update(signed).digest('base64url');
}
