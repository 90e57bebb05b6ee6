import {
  generateApiToken,
  generatePlaybackId,
  generateStreamKey,
  hashSecret,
  ID_PATTERN,
  generateId,
  PLAYBACK_ID_PATTERN,
  randomBase62,
  secretFingerprint,
  secretsEqual,
} from '../../src/streams/keys';

describe('stream keys and ids', () => {
  test('a stream key is sk_ and 32 base62 characters, a valid RTMP stream name', () => {
    const key = generateStreamKey();
    expect(key).toMatch(/^sk_[A-Za-z0-9]{32}$/);
    // node-media-server's own rule for stream names
    expect(key).toMatch(/^[a-zA-Z0-9_-]+$/);
  });

  test('keys, tokens, playback ids and ids do not repeat', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      seen.add(generateStreamKey());
      seen.add(generateApiToken());
      seen.add(generatePlaybackId());
      seen.add(generateId());
    }
    expect(seen.size).toBe(8000);
  });

  test('playback ids and ids match the patterns the routes accept', () => {
    expect(generatePlaybackId()).toMatch(PLAYBACK_ID_PATTERN);
    expect(generateId()).toMatch(ID_PATTERN);
    expect(generateApiToken()).toMatch(/^tok_[A-Za-z0-9]{40}$/);
  });

  test('random characters are spread over the whole alphabet', () => {
    const counts = new Map<string, number>();
    for (const c of randomBase62(62_000)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const n of counts.values()) expect(n).toBeGreaterThan(700);
  });

  test('hashing is SHA-256 hex and does not contain the secret', () => {
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const key = generateStreamKey();
    expect(hashSecret(key)).toHaveLength(64);
    expect(hashSecret(key)).not.toContain(key.slice(3));
  });

  test('secretsEqual compares whole values', () => {
    expect(secretsEqual('tok_a', 'tok_a')).toBe(true);
    expect(secretsEqual('tok_a', 'tok_b')).toBe(false);
    expect(secretsEqual('tok_a', 'tok_aa')).toBe(false);
    expect(secretsEqual('', 'x')).toBe(false);
  });

  test('a fingerprint is short, stable and not the key', () => {
    const key = generateStreamKey();
    expect(secretFingerprint(key)).toBe(secretFingerprint(key));
    expect(secretFingerprint(key)).toHaveLength(8);
    expect(key).not.toContain(secretFingerprint(key));
  });
});
