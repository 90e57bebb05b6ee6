import { NodeRegistry } from '../../src/cluster/node-registry';
import { StreamLeases } from '../../src/cluster/stream-leases';
import { SessionRepository, type SessionRecord } from '../../src/live/session-repository';
import { createDatabase, type Database } from '../../src/db/knex';
import { createLogger } from '../../src/observability/logger';
import { describeDatabases, useMigratedDatabase } from '../support/database';

const LEASE_MS = 5000;

describeDatabases('the cluster record: stream leases and nodes', (kind) => {
  const database = useMigratedDatabase(kind);
  let db: Database;
  let clock = 1_700_000_000_000;
  const now = () => clock;
  const leasesOf = (node: string, holder = `${node}/1`, on = db) => new StreamLeases(on, { node, holder, leaseMs: LEASE_MS, now });
  let streamNumber = 0;
  const newStream = () => `stream${(streamNumber += 1)}`;
  beforeAll(() => {
    db = database.db;
  });

  test('a stream has one owner: a claim elsewhere is refused while the lease lives, and its holder may claim again', async () => {
    const a = leasesOf('a');
    const b = leasesOf('b');
    const stream = newStream();
    expect(await a.claim(stream)).toEqual({ ok: true });
    expect(await b.claim(stream)).toMatchObject({ ok: false, owner: 'a' });
    clock += LEASE_MS - 1;
    expect(await b.claim(stream)).toMatchObject({ ok: false, owner: 'a' });
    expect(await a.claim(stream)).toEqual({ ok: true });
  });

  test('claims racing on two nodes: exactly one wins each stream', async () => {
    const a = leasesOf('a');
    const b = leasesOf('b');
    const streams = Array.from({ length: 20 }, newStream);
    const results = await Promise.all(streams.flatMap((stream) => [a.claim(stream), b.claim(stream)]));
    for (let i = 0; i < streams.length; i += 1) {
      const pair = [results[2 * i]!, results[2 * i + 1]!];
      expect(pair.filter((result) => result.ok)).toHaveLength(1);
    }
    expect(await db('stream_leases').whereIn('stream_id', streams).count({ n: '*' })).toEqual([{ n: streams.length }]);
  });

  test('renewed, a lease outlives its first term; unrenewed, it lapses and the next claim anywhere takes it; the old holder learns it lost it', async () => {
    const a = leasesOf('a');
    const b = leasesOf('b');
    const stream = newStream();
    await a.claim(stream);
    clock += LEASE_MS - 1000;
    expect(await a.renew([stream])).toEqual({ lost: [], lapsing: [] });
    clock += LEASE_MS - 1000;
    expect(await b.claim(stream)).toMatchObject({ ok: false, owner: 'a' });
    clock += 1001;
    expect(await b.claim(stream)).toEqual({ ok: true });
    expect(await a.renew([stream])).toEqual({ lost: [stream], lapsing: [] });
    expect(await a.claim(stream)).toMatchObject({ ok: false, owner: 'b' });
  });

  test('a released stream is free at once; a release is skipped while the stream is still needed or a publish was just admitted', async () => {
    const a = leasesOf('a');
    const b = leasesOf('b');
    const stream = newStream();
    await a.claim(stream);
    clock += 3000;
    await a.release(stream, () => true);
    expect(await b.claim(stream)).toMatchObject({ ok: false, owner: 'a' });
    await a.claim(stream);
    await a.release(stream, () => false);
    expect(await b.claim(stream)).toMatchObject({ ok: false, owner: 'a' });
    clock += 3000;
    await a.release(stream, () => false);
    expect(await b.claim(stream)).toEqual({ ok: true });
  });

  test('streams no longer needed are released by the renewal; releaseAll frees the rest', async () => {
    const a = leasesOf('a');
    const b = leasesOf('b');
    const [kept, dropped] = [newStream(), newStream()];
    await a.claim(kept);
    await a.claim(dropped);
    clock += 3000;
    expect(await a.renew([kept])).toEqual({ lost: [], lapsing: [] });
    await waitForClaim(b, dropped);
    expect(await b.claim(kept)).toMatchObject({ ok: false, owner: 'a' });
    await a.releaseAll();
    expect(await b.claim(kept)).toEqual({ ok: true });
  });

  test('a node that cannot reach the database learns which leases are about to lapse, before they do', async () => {
    const separate = createDatabase(database.url, createLogger({ level: 'silent', format: 'json' }));
    const a = leasesOf('a', 'a/1', separate);
    const stream = newStream();
    await a.claim(stream);
    await separate.destroy();
    clock += 1000;
    const early = await a.renew([stream]);
    expect(early).toMatchObject({ lost: [], lapsing: [] });
    expect(early.error).toBeDefined();
    clock += LEASE_MS * 0.75 - 1000;
    const late = await a.renew([stream]);
    expect(late).toMatchObject({ lost: [], lapsing: [stream] });
    // By then no other node could have taken it yet.
    expect(await leasesOf('b').claim(stream)).toMatchObject({ ok: false, owner: 'a' });
  });

  test('a lease taken over from a holder known to be gone: only while that holder has it, by one node', async () => {
    const a = leasesOf('a', 'a/dead');
    const stream = newStream();
    await a.claim(stream);
    const refused = await leasesOf('b').claim(stream);
    expect(refused).toMatchObject({ ok: false, owner: 'a', holder: 'a/dead' });
    const [b, c] = [leasesOf('b'), leasesOf('c')];
    expect(await Promise.all([b.takeOver(stream, 'a/dead'), c.takeOver(stream, 'a/dead')])).toEqual(expect.arrayContaining([true, false]));
    expect(await a.renew([stream])).toEqual({ lost: [stream], lapsing: [] });
  });

  test("a node restarted under its id drops the leases of its previous run, and no other node's", async () => {
    const before = leasesOf('a', 'a/before');
    const other = leasesOf('b');
    const [mine, theirs] = [newStream(), newStream()];
    await before.claim(mine);
    await other.claim(theirs);
    const after = leasesOf('a', 'a/after');
    expect(await after.claim(mine)).toMatchObject({ ok: false, owner: 'a' });
    expect(await after.dropPrevious()).toBeGreaterThanOrEqual(1);
    expect(await after.claim(mine)).toEqual({ ok: true });
    expect(await after.claim(theirs)).toMatchObject({ ok: false, owner: 'b' });
  });

  test('nodes: listed up while they beat, gone once silent for a lease or after leaving', async () => {
    const nodes = new NodeRegistry(db, { goneAfterMs: LEASE_MS, now });
    const self = (id: string) => ({ id, url: () => `http://10.0.0.${id === 'n1' ? 1 : 2}:8000`, version: '1.2.3', startedAt: clock });
    await nodes.beat(self('n1'), { liveSessions: 2, load: 0.456 });
    await nodes.beat(self('n2'), { liveSessions: 0, load: 0 });
    expect((await nodes.list()).filter((n) => n.id.startsWith('n'))).toEqual([
      { id: 'n1', url: 'http://10.0.0.1:8000', version: '1.2.3', status: 'up', startedAt: clock, lastSeenAt: clock, liveSessions: 2, load: 0.46, drainDeadlineAt: null },
      { id: 'n2', url: 'http://10.0.0.2:8000', version: '1.2.3', status: 'up', startedAt: clock, lastSeenAt: clock, liveSessions: 0, load: 0, drainDeadlineAt: null },
    ]);
    clock += LEASE_MS + 1;
    await nodes.beat(self('n2'), { liveSessions: 1, load: 0.1 });
    expect((await nodes.list()).filter((n) => n.id.startsWith('n')).map((n) => [n.id, n.status, n.liveSessions])).toEqual([
      ['n1', 'gone', 0],
      ['n2', 'up', 1],
    ]);
    // A drain asked of a node that is up is recorded (the earliest deadline holds); of a gone one, refused.
    expect(await nodes.requestDrain('n2', clock + 30_000)).toMatchObject({ id: 'n2', drainDeadlineAt: clock + 30_000 });
    expect(await nodes.requestDrain('n2', clock + 60_000)).toMatchObject({ drainDeadlineAt: clock + 30_000 });
    expect(await nodes.requestDrain('n1', clock + 30_000)).toBeUndefined();
    // The next run of the node starts without it.
    await nodes.beat(self('n2'), { liveSessions: 0, load: 0, first: true });
    expect((await nodes.list()).find((n) => n.id === 'n2')?.drainDeadlineAt).toBeNull();
    await nodes.leave('n2');
    expect((await nodes.list()).find((n) => n.id === 'n2')?.status).toBe('gone');
    await nodes.beat(self('n2'), { liveSessions: 0, load: 0 });
    expect((await nodes.list()).find((n) => n.id === 'n2')?.status).toBe('up');
  });

  test("sessions left open by a node gone for long enough are closed (node_lost); a live node's, and ended ones, are left alone", async () => {
    const nodes = new NodeRegistry(db, { goneAfterMs: LEASE_MS, now });
    const sessions = new SessionRepository(db);
    const self = (id: string) => ({ id, url: () => 'http://127.0.0.1:1', version: '1', startedAt: clock });
    const record = (id: string, node: string, endedAt: number | null): SessionRecord => ({
      id,
      streamId: `st${id}`,
      node,
      state: endedAt === null ? 'live' : 'ended',
      clientAddress: null,
      startedAt: clock,
      endedAt,
      endReason: endedAt === null ? null : 'publisher_left',
      bytesIn: 0,
      videoCodec: null,
      audioCodec: null,
      width: null,
      height: null,
      frameRate: null,
      profile: 'ladder',
      recorded: false,
      reconnects: 0,
      transcoderRestarts: 0,
      lastMsn: null,
      discontinuities: 0,
    });
    await nodes.beat(self('dead-node'), { liveSessions: 1, load: 0 });
    clock += 60_000;
    await nodes.beat(self('live-node'), { liveSessions: 1, load: 0 });
    for (const r of [record('orphan0000000001', 'dead-node', null), record('ended00000000001', 'dead-node', clock - 1), record('running000000001', 'live-node', null)])
      await sessions.insert(r);
    expect(await sessions.closeOfGoneNodes(clock - 30_000, clock, 'node_lost')).toBe(1);
    expect(await sessions.findById('orphan0000000001')).toMatchObject({ state: 'ended', endReason: 'node_lost', endedAt: clock });
    expect(await sessions.findById('ended00000000001')).toMatchObject({ endReason: 'publisher_left' });
    expect(await sessions.findById('running000000001')).toMatchObject({ state: 'live', endedAt: null });
    // Gone for less than that: not yet.
    await sessions.insert(record('recent0000000001', 'live-node', null));
    clock += 10_000;
    expect(await sessions.closeOfGoneNodes(clock - 30_000, clock, 'node_lost')).toBe(0);
  });
});

/** A release the renewal started in the background has reached the database. */
async function waitForClaim(leases: StreamLeases, stream: string): Promise<void> {
  for (let i = 0; i < 50; i += 1) {
    if ((await leases.claim(stream)).ok) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${stream} was not released`);
}
