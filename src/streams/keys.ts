import crypto from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Uniform over the alphabet: bytes >= 248 are rejected so that no character is favoured. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of crypto.randomBytes(length * 2)) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export const STREAM_KEY_PREFIX = 'sk_';
export const API_TOKEN_PREFIX = 'tok_';

/** 32 base62 characters ≈ 190 bits. Only [A-Za-z0-9_] so it is a valid RTMP stream name. */
export function generateStreamKey(): string {
  return STREAM_KEY_PREFIX + randomBase62(32);
}

export function generateApiToken(): string {
  return API_TOKEN_PREFIX + randomBase62(40);
}

/** Public, but long enough that streams cannot be enumerated. */
export function generatePlaybackId(): string {
  return randomBase62(20);
}

export function generateId(): string {
  return randomBase62(16);
}

export const PLAYBACK_ID_PATTERN = /^[A-Za-z0-9]{20}$/;
export const ID_PATTERN = /^[A-Za-z0-9]{16}$/;

/**
 * Keys and tokens are random with ~190 bits or more, so a fast hash is enough: there is nothing
 * to brute-force that a slow hash would protect.
 */
export function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares two secrets in time independent of where they differ. */
export function secretsEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a, 'utf8').digest();
  const hb = crypto.createHash('sha256').update(b, 'utf8').digest();
  return crypto.timingSafeEqual(ha, hb);
}

/** A short, non-reversible label for logs: lets operators correlate attempts without revealing the key. */
export function secretFingerprint(secret: string): string {
  return hashSecret(secret).slice(0, 8);
}
