import { migrateToLatest, type Database } from '../../src/db/knex';
import { hashSecret } from '../../src/streams/keys';
import { StreamRepository } from '../../src/streams/stream-repository';
import { StreamService } from '../../src/streams/stream-service';
import { TokenRepository } from '../../src/streams/token-repository';
import { TokenService } from '../../src/streams/token-service';
import { describeDatabases, useMigratedDatabase } from '../support/database';

describeDatabases('data layer', (kind) => {
  const database = useMigratedDatabase(kind);
  let db: Database;
  let clock = 1_700_000_000_000;
  const now = () => clock;
  beforeAll(() => {
    db = database.db;
  });

  test('migrations are idempotent', async () => {
    await migrateToLatest(db);
    const tables = ['streams', 'api_tokens'];
    for (const table of tables) expect(await db.schema.hasTable(table)).toBe(true);
  });

  test('a created stream stores the hash of its key, never the key', async () => {
    const streams = new StreamService(new StreamRepository(db), now);
    const { stream, streamKey } = await streams.create({ name: 'Évènement 🎥' });
    expect(stream).toMatchObject({ name: 'Évènement 🎥', enabled: true, createdAt: clock, updatedAt: clock });
    const row = await db('streams').where({ id: stream.id }).first();
    expect(row.key_hash).toBe(hashSecret(streamKey));
    expect(JSON.stringify(row)).not.toContain(streamKey.slice(3));
    expect(await streams.get(stream.id)).toEqual(stream);
    expect(await streams.getByPlaybackId(stream.playbackId)).toEqual(stream);
  });

  test('key check: right key, unknown key, malformed key, disabled stream', async () => {
    const streams = new StreamService(new StreamRepository(db), now);
    const { stream, streamKey } = await streams.create({ name: 'checked' });
    expect(await streams.checkKey(streamKey)).toEqual({ ok: true, stream });
    expect(await streams.checkKey(`sk_${'A'.repeat(32)}`)).toEqual({ ok: false, reason: 'unknown_key' });
    expect(await streams.checkKey("sk_' OR 1=1 --")).toEqual({ ok: false, reason: 'malformed_key' });
    await db('streams').where({ id: stream.id }).update({ enabled: false });
    expect(await streams.checkKey(streamKey)).toEqual({ ok: false, reason: 'stream_disabled' });
  });

  test('streams are listed newest first with a stable order', async () => {
    const streams = new StreamService(new StreamRepository(db), now);
    const created = [];
    for (let i = 0; i < 3; i++) {
      clock += 1000;
      created.push((await streams.create({ name: `list ${i}` })).stream);
    }
    const first = await streams.page(2);
    expect(first.items.map((s) => s.name)).toEqual(['list 2', 'list 1']);
    const second = await streams.page(1, first.next);
    expect(second.items.map((s) => s.name)).toEqual(['list 0']);
  });

  test('API tokens: stored hashed, authenticated, last use recorded, bootstrap only when none exist', async () => {
    const tokens = new TokenService(new TokenRepository(db), undefined, now);
    const bootstrap = await tokens.bootstrapAdminToken();
    expect(bootstrap).toMatch(/^tok_/);
    expect(await tokens.bootstrapAdminToken()).toBeUndefined();
    const row = await db('api_tokens').first();
    expect(row.token_hash).toBe(hashSecret(bootstrap!));
    clock += 5000;
    expect(await tokens.authenticate(bootstrap!)).toMatchObject({ scope: 'admin' });
    expect(Number((await db('api_tokens').where({ id: row.id }).first()).last_used_at)).toBe(clock);
    expect(await tokens.authenticate('tok_nope')).toBeUndefined();
    const { token: readToken } = await tokens.create({ name: 'dashboard', scope: 'read' });
    expect(await tokens.authenticate(readToken)).toMatchObject({ scope: 'read', name: 'dashboard' });
  });

  test('ADMIN_TOKEN from the environment is accepted and suppresses the bootstrap token', async () => {
    const tokens = new TokenService(new TokenRepository(db), 'env-admin-token-0123456789', now);
    expect(await tokens.authenticate('env-admin-token-0123456789')).toEqual({ tokenId: 'env', name: 'ADMIN_TOKEN', scope: 'admin' });
    expect(await tokens.bootstrapAdminToken()).toBeUndefined();
  });
});
